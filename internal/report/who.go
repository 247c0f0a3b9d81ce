package report

import (
	"strings"
)

// FormatAccount writes a 12-digit account id in groups of four (1111-2222-3333); other text is
// returned as it is.
func FormatAccount(id string) string {
	if len(id) != 12 || strings.Trim(id, "0123456789") != "" {
		return id
	}
	return id[:4] + "-" + id[4:8] + "-" + id[8:]
}

// accountText is "account 1111-2222-3333", with its alias when one is configured.
func (o *Options) accountText(id string) string {
	if id == "" {
		return ""
	}
	s := "account " + FormatAccount(id)
	if a := o.AccountAliases[id]; a != "" {
		s += " alias " + a
	}
	return s
}

// arnName is the last path element of an ARN's resource (user/dev/alice -> alice), or s itself.
func arnName(s string) string {
	if !strings.HasPrefix(s, "arn:") {
		return s
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) < 6 {
		return s
	}
	res := parts[5]
	if i := strings.LastIndexAny(res, "/:"); i >= 0 && i < len(res)-1 {
		return res[i+1:]
	}
	return res
}

// arnAccount is an ARN's account field.
func arnAccount(s string) string {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[4]
}

// who names the identity that made a call, and the account it belongs to.
func (o *Options) who(e *event) (who, account string) {
	u := &e.ui
	account = u.account
	if account == "" {
		account = arnAccount(u.arn)
	}
	if account == "" && u.typ != "AWSService" {
		account = e.recipient
	}
	paren := func(kind string) string {
		var parts []string
		if kind != "" {
			parts = append(parts, kind)
		}
		if a := o.accountText(account); a != "" {
			parts = append(parts, a)
		}
		if len(parts) == 0 {
			return ""
		}
		return " (" + strings.Join(parts, ", ") + ")"
	}
	switch u.typ {
	case "Root":
		if account == "" {
			return "the root user", ""
		}
		return "the root user of " + o.accountText(account), account
	case "IAMUser":
		name := u.userName
		if name == "" {
			name = arnName(u.arn)
		}
		switch name {
		case "":
			return "an IAM user" + paren(""), account
		case "HIDDEN_DUE_TO_SECURITY_REASONS":
			return "an unknown user name (hidden by AWS)" + paren(""), account
		}
		return name + paren("IAM user"), account
	case "AssumedRole":
		role, session := u.issuerName, ""
		if u.arn != "" {
			// arn:aws:sts::111122223333:assumed-role/ROLE/SESSION
			if _, rest, ok := strings.Cut(u.arn, ":assumed-role/"); ok {
				r, s, _ := strings.Cut(rest, "/")
				if role == "" {
					role = r
				}
				session = s
			}
		}
		if role == "" {
			role = arnName(u.issuerARN)
		}
		if session == "" {
			if _, s, ok := strings.Cut(u.principalID, ":"); ok {
				session = s
			}
		}
		if strings.HasPrefix(role, "AWSReservedSSO_") && session != "" {
			set := strings.TrimPrefix(role, "AWSReservedSSO_")
			if i := strings.LastIndex(set, "_"); i > 0 {
				set = set[:i]
			}
			return session + paren("Identity Center user, permission set "+set), account
		}
		if role == "" {
			return "an assumed role" + paren(""), account
		}
		kind := ""
		if session != "" {
			kind = "session " + session
		}
		if u.webProvider != "" {
			kind = joinNonEmpty(", ", kind, "web identity from "+u.webProvider)
		}
		return "the role " + role + paren(kind), account
	case "FederatedUser":
		name := arnName(u.arn)
		if _, n, ok := strings.Cut(u.arn, ":federated-user/"); ok {
			name = n
		}
		if name == "" {
			if _, n, ok := strings.Cut(u.principalID, ":"); ok {
				name = n
			}
		}
		kind := ""
		if u.issuerName != "" {
			kind = "federated by the IAM user " + u.issuerName
		}
		if name == "" {
			return "a federated user" + paren(kind), account
		}
		return "the federated user " + name + paren(kind), account
	case "SAMLUser":
		name := joinNonEmpty("", u.userName)
		if name == "" {
			name = u.principalID
		}
		return "the SAML user " + name + paren(""), account
	case "WebIdentityUser":
		name := u.userName
		if name == "" {
			name = u.principalID
		}
		kind := ""
		if u.invokedBy != "" {
			kind = "web identity from " + u.invokedBy
		} else if u.webProvider != "" {
			kind = "web identity from " + u.webProvider
		}
		return "the web identity user " + name + paren(kind), account
	case "IdentityCenterUser":
		name := u.userName
		if name == "" {
			name = u.onBehalfUser
		}
		if name == "" {
			return "an IAM Identity Center user" + paren(""), account
		}
		return "the IAM Identity Center user " + name + paren(""), account
	case "AWSService":
		svc := u.invokedBy
		if svc == "" {
			svc = e.ip
		}
		if !strings.Contains(svc, ".") { // "AWS Internal", or nothing
			return "an AWS service", account
		}
		return "the AWS service " + svc, account
	case "AWSAccount":
		if u.principalID == "ANONYMOUS_PRINCIPAL" {
			return "an anonymous caller (not signed in)", ""
		}
		if account == "" {
			return "a principal of another AWS account", ""
		}
		who := "a principal of " + o.accountText(account)
		if u.invokedBy != "" {
			who = "the AWS service " + u.invokedBy + " for " + o.accountText(account)
		}
		return who, account
	case "Unknown":
		if u.userName != "" {
			return u.userName + paren("identity of unknown type"), account
		}
		return "an unknown identity" + paren(""), account
	}
	// No type: service events, and the console's Event history rows that only name the user.
	switch {
	case u.userName != "":
		return u.userName + paren(""), account
	case strings.Contains(u.invokedBy, "."):
		return "the AWS service " + u.invokedBy, account
	case u.invokedBy != "": // "AWS Internal"
		return "an AWS service", account
	case strings.HasSuffix(e.ip, ".amazonaws.com"):
		return "the AWS service " + e.ip, account
	case e.eventType == "AwsServiceEvent" && e.source != "":
		return "the AWS service " + e.source, account
	case u.arn != "":
		return arnName(u.arn) + paren(""), account
	case u.principalID != "":
		return "the principal " + u.principalID + paren(""), account
	}
	if u.typ != "" {
		return "an identity of type " + u.typ + paren(""), account
	}
	return "an unnamed identity" + paren(""), account
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}
