package report

import (
	"net"
	"strings"
)

// how says what the call was made with, from its user agent and whether its credentials came
// from a console session: "from the AWS console (Chrome on macOS)", "with the AWS CLI 2.13.0",
// "with Terraform 1.5.7", "through CloudFormation", "through the AWS service lambda.amazonaws.com".
// console is true for a person in the console.
func how(e *event) (phrase string, console bool) {
	ua := strings.TrimSpace(e.ua)
	lua := strings.ToLower(ua)
	browser := browserOf(ua)
	isConsoleUA := ua == "console.amazonaws.com" || ua == "signin.amazonaws.com" ||
		strings.Contains(lua, ".console.aws.amazon.com") || strings.Contains(lua, "console.aws.amazon.com") ||
		strings.Contains(lua, "s3console") || (strings.HasPrefix(lua, "console.") && strings.HasSuffix(lua, ".amazonaws.com"))
	switch {
	case strings.Contains(lua, "terraform/"):
		return "with Terraform" + version(ua, "Terraform/"), false
	case ua == "cloudformation.amazonaws.com" || strings.Contains(lua, "cloudformation.amazonaws.com"):
		return "through CloudFormation", false
	case e.source == "signin.amazonaws.com":
		// The action is the console sign-in: say only what it was made with.
		if browser != "" {
			return "from a web browser (" + browser + ")", true
		}
		return "", true
	case e.fromConsole == "true" || isConsoleUA || e.eventType == "AwsConsoleAction":
		if browser != "" {
			return "from the AWS console (" + browser + ")", true
		}
		return "from the AWS console", true
	case strings.HasPrefix(lua, "aws-cli/"):
		return "with the AWS CLI" + version(ua, "aws-cli/"), false
	case strings.Contains(lua, "aws-sdk-go-v2/"):
		return "with the AWS SDK for Go v2", false
	case strings.Contains(lua, "aws-sdk-go/"):
		return "with the AWS SDK for Go", false
	case strings.Contains(lua, "boto3/"):
		return "with the AWS SDK for Python (Boto3)", false
	case strings.Contains(lua, "botocore/"):
		return "with the AWS SDK for Python (botocore)", false
	case strings.Contains(lua, "aws-sdk-java"):
		return "with the AWS SDK for Java", false
	case strings.Contains(lua, "aws-sdk-nodejs") || strings.Contains(lua, "aws-sdk-js"):
		return "with the AWS SDK for JavaScript", false
	case strings.Contains(lua, "aws-sdk-ruby"):
		return "with the AWS SDK for Ruby", false
	case strings.Contains(lua, "aws-sdk-php"):
		return "with the AWS SDK for PHP", false
	case strings.Contains(lua, "aws-sdk-dotnet") || strings.Contains(lua, "aws-sdk-net"):
		return "with the AWS SDK for .NET", false
	case strings.Contains(lua, "aws-sdk-rust"):
		return "with the AWS SDK for Rust", false
	case strings.Contains(lua, "aws-powershell") || strings.Contains(lua, "aws-tools-for-powershell"):
		return "with the AWS Tools for PowerShell", false
	case ua == "AWS Internal" || strings.HasPrefix(lua, "aws-internal"):
		return "by AWS on the caller's behalf (AWS Internal)", false
	case strings.HasSuffix(lua, ".amazonaws.com") && !strings.Contains(ua, " "):
		return "through the AWS service " + ua, false
	case browser != "":
		return "from a web browser (" + browser + ")", false
	case ua == "":
		return "", false
	}
	prod := ua
	if i := strings.IndexAny(prod, " ("); i > 0 {
		prod = prod[:i]
	}
	if len(prod) > 60 {
		prod = prod[:60] + "…"
	}
	return "with the client " + prod, false
}

// version is " 2.13.0" for the version after prefix in a user agent, "" when there is none.
func version(ua, prefix string) string {
	i := strings.Index(strings.ToLower(ua), strings.ToLower(prefix))
	if i < 0 {
		return ""
	}
	v := ua[i+len(prefix):]
	if j := strings.IndexAny(v, " ()/,;"); j >= 0 {
		v = v[:j]
	}
	if v == "" || v[0] < '0' || v[0] > '9' {
		return ""
	}
	return " " + v
}

// browserOf is "Chrome on macOS" for a browser's user agent, "" for anything else.
func browserOf(ua string) string {
	if !strings.Contains(ua, "Mozilla/") {
		return ""
	}
	b := ""
	switch {
	case strings.Contains(ua, "Edg/") || strings.Contains(ua, "Edge/"):
		b = "Edge"
	case strings.Contains(ua, "OPR/"):
		b = "Opera"
	case strings.Contains(ua, "Firefox/"):
		b = "Firefox"
	case strings.Contains(ua, "Chrome/") || strings.Contains(ua, "CriOS/"):
		b = "Chrome"
	case strings.Contains(ua, "Safari/"):
		b = "Safari"
	case strings.Contains(ua, "Trident/") || strings.Contains(ua, "MSIE "):
		b = "Internet Explorer"
	default:
		b = ""
	}
	os := ""
	switch {
	case strings.Contains(ua, "iPhone") || strings.Contains(ua, "iPad"):
		os = "iOS"
	case strings.Contains(ua, "Android"):
		os = "Android"
	case strings.Contains(ua, "Windows"):
		os = "Windows"
	case strings.Contains(ua, "Mac OS X") || strings.Contains(ua, "Macintosh"):
		os = "macOS"
	case strings.Contains(ua, "CrOS"):
		os = "ChromeOS"
	case strings.Contains(ua, "Linux"):
		os = "Linux"
	}
	switch {
	case b == "" && os == "":
		return "an unknown browser"
	case b == "":
		return "a browser on " + os
	case os == "":
		return b
	}
	return b + " on " + os
}

// where says where a call came from: "from 203.0.113.5", "from within AWS", "from the AWS
// service ec2.amazonaws.com", with the VPC endpoint it went through. skip is a service already
// named (the caller), not repeated.
func where(e *event, skip string) string {
	ip := strings.TrimSpace(e.ip)
	var s string
	switch {
	case ip == "":
	case net.ParseIP(ip) != nil:
		s = "from " + ip
	case ip == "AWS Internal":
		s = "from within AWS"
	case strings.HasSuffix(ip, ".amazonaws.com") || strings.HasSuffix(ip, ".amazon.com"):
		if ip != skip {
			s = "from the AWS service " + ip
		}
	default:
		s = "from " + ip
	}
	if e.vpce != "" {
		s = joinNonEmpty(" ", s, "through the VPC endpoint "+e.vpce)
	}
	return s
}
