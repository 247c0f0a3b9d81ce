package generate

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// pkind is the kind of an IAM principal.
type pkind uint8

const (
	pUser pkind = iota
	pRole
	pRoot
	pService // an AWS service (invokedBy)
	pAccount // another AWS account calling in
)

// principal is an identity of the world: a user, a role, a root user, a service or a foreign
// account.
type principal struct {
	kind pkind
	acct *account
	name string // user or role name; service host; account id
	path string // IAM path of roles ("/" by default)
	arn  string
	id   string // AIDA…/AROA… unique id, or the account id for root
	key  string // AKIA… access key of users
}

// mode says how an actor appears in userIdentity.
type mode uint8

const (
	mKey          mode = iota // IAM user with a long-term access key (AKIA…)
	mConsole                  // IAM user in the console: session credentials (ASIA…) from the console
	mRootConsole              // the root user in the console
	mSession                  // role session created by AssumeRole from a script or the CLI
	mConsoleRole              // role session in the console (switch role)
	mEC2                      // instance-profile session (session name = instance id)
	mLambda                   // Lambda execution-role session (session name = function name)
	mSLR                      // service-linked role session (invokedBy the service)
	mExtSession               // role session of a third party that assumed the role cross-account
	mService                  // AWSService principal (invokedBy)
	mServiceEvent             // AwsServiceEvent, userIdentity without type
	mAccount                  // AWSAccount principal (another account)
)

// uaKind says how the user agent varies with the call.
type uaKind uint8

const (
	uaFixed uaKind = iota
	uaCLI          // aws-cli: " command/<service>.<command>" appended
	uaGoV2         // aws-sdk-go-v2 and Terraform: " api/<service>#<version>" appended
)

type userAgent struct {
	base string
	kind uaKind
}

// wact is one action of an actor's profile: weight, and the probability of being throttled or
// denied.
type wact struct {
	a        actID
	w        float64
	throttle float64
	deny     float64
}

// actor is a principal used in one way with its own habits: what it calls, from where, with
// which client, when.
type actor struct {
	idx       int
	p         *principal
	mode      mode
	owner     string // user behind a role session, or the session name of scripted sessions
	mfa       bool
	targets   []*actor // roles this actor assumes (for its AssumeRole calls)
	instances []string // EC2 instance ids (mEC2)
	functions []string // Lambda function names (mLambda)
	ips       []string
	uas       []userAgent
	w         float64
	acts      []wact
	cumAll    []float64 // cumulative weights over acts
	cumRegion []float64 // cumulative weights over acts that are not global
	until     int64     // if non-zero, the actor acts only before this Unix time
	human     bool      // mostly active in office hours
	sessLen   int64     // seconds a session lasts
}

// account is one AWS account of the world.
type account struct {
	idx       int
	id        string
	root      *principal
	users     map[string]*principal
	roles     map[string]*principal
	actors    []*actor
	cumHome   []float64 // cumulative actor weights in the home region
	cumOther  []float64 // cumulative actor weights in other regions
	buckets   []string
	functions []string
	params    []string
	secrets   []string
	stacks    []string
	vpc       string
	sgs       []string
	amis      []string
	subnet    string
	kms       map[string][]string // KMS key ids by region
	admin     *actor              // alice's Admin session in this account
	monitor   *actor              // the MonitoringRole session, active at all hours
	rootActor *actor
}

// world is the immutable setting of a trail: accounts, identities and their habits.
type world struct {
	seed     uint64
	opt      Options
	start    int64 // oldest allowed event time (Unix)
	end      int64 // newest event time (Unix)
	home     string
	accounts []*account
	ext      string // third-party account assuming MonitoringRole
	bucket   string // the trail's bucket
	trail    string
	actors   []*actor
	inactive int64 // inactive users act only before this time
}

const (
	uaCLIMac      = "aws-cli/2.15.30 Python/3.11.8 Darwin/23.3.0 exe/x86_64 prompt/off"
	uaCLILinux    = "aws-cli/2.13.25 Python/3.11.5 Linux/6.5.0-1014-aws exe/x86_64.ubuntu.22 prompt/off"
	uaCLIWin      = "aws-cli/2.15.17 Python/3.11.6 Windows/10 exe/AMD64 prompt/off"
	uaBoto3       = "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/macos#23.4.0 md/arch#arm64 lang/python#3.12.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69"
	uaBoto3Lambda = "Boto3/1.34.42 md/Botocore#1.34.42 ua/2.0 os/linux#5.10.213-221.859.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.42"
	uaTerraform   = "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.42.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.26.0 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64"
	uaGoV2Poller  = "aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64"
	uaJava        = "aws-sdk-java/2.25.6 Linux/5.10.210-201.852.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. md/internal exec-env/AWS_ECS_EC2 io/sync http/Apache cfg/retry-mode/legacy"
	uaSSMAgent    = "aws-sdk-go/1.50.8 (go1.21.6; linux; amd64) amazon-ssm-agent/3.3.40.0"
	uaChrome      = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36"
	uaFirefox     = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:124.0) Gecko/20100101 Firefox/124.0"
	uaInternal    = "AWS Internal"
	uaAttacker    = "aws-cli/1.16.312 Python/3.8.0 Windows/10 botocore/1.13.48"
)

var (
	officeFirst = []int{81, 82, 86, 92, 109, 176, 185, 188, 193, 212, 213, 217}
	awsFirst    = []int{3, 18, 34, 35, 44, 52, 54}
	homeFirst   = []int{24, 67, 73, 98, 108, 174}
)

func randIP(r *rand.Rand, firsts []int) string {
	return strconv.Itoa(firsts[r.IntN(len(firsts))]) + "." + strconv.Itoa(r.IntN(256)) + "." +
		strconv.Itoa(r.IntN(256)) + "." + strconv.Itoa(1+r.IntN(254))
}

func ips(r *rand.Rand, n int, firsts []int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = randIP(r, firsts)
	}
	return out
}

var tailNames = []string{"dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj", "olivia",
	"peggy", "rupert", "sybil", "trent", "victor", "walter", "yara", "zoe", "liam", "noah", "emma", "ava",
	"mia", "lucas", "leo", "ines", "omar", "priya", "chen", "sofia", "mateo", "hana", "arjun", "ling"}

var tailWords = []string{"billing", "search", "orders", "payments", "reports", "etl", "backup", "audit",
	"metrics", "images", "mailer", "catalog", "ledger", "ingest", "export", "sync", "notify", "auth"}

// newWorld builds the accounts, identities and habits from the seed and options.
func newWorld(opt Options) *world {
	w := &world{seed: uint64(opt.Seed), opt: opt}
	w.end = opt.End.Unix()
	w.start = w.end - int64(opt.Days)*86400
	w.home = opt.Regions[0]
	for _, r := range opt.Regions {
		if r == "us-east-1" {
			w.home = r
		}
	}
	// Inactive users stop more than 30 days before End when the window allows it (Days >= 35),
	// otherwise in the oldest third of the window.
	if opt.Days >= 35 {
		w.inactive = w.end - 31*86400
	} else {
		w.inactive = w.start + int64(opt.Days)*86400/3
	}
	r := newRand(w.seed, 0x3031d)
	seen := map[string]bool{}
	for i := 0; i < opt.Accounts+1; i++ {
		var id string
		for id == "" || seen[id] {
			id = strconv.Itoa(1+r.IntN(9)) + fmt.Sprintf("%011d", r.Int64N(100000000000))
		}
		seen[id] = true
		if i == opt.Accounts {
			w.ext = id
			break
		}
		w.accounts = append(w.accounts, &account{idx: i, id: id, users: map[string]*principal{}, roles: map[string]*principal{}})
	}
	w.trail = "management-events"
	if opt.OrgID != "" {
		w.trail = "org-trail"
	}
	w.bucket = "aws-cloudtrail-logs-" + w.accounts[0].id + "-" + charsFrom(r.Uint64(), hexDigits, 8)

	// The long tail of generated identities grows with the trail (1M events: 120 users, 240 roles).
	tailUsers := min(opt.Events/8000, 200)
	tailRoles := min(opt.Events/4000, 300)
	for _, a := range w.accounts {
		w.buildAccount(r, a, tailUsers/len(w.accounts), tailRoles/len(w.accounts))
	}
	for _, a := range w.accounts {
		var home, other float64
		for _, ac := range a.actors {
			ac.cumAll = cumulate(ac.acts, false)
			ac.cumRegion = cumulate(ac.acts, true)
			home += ac.w
			a.cumHome = append(a.cumHome, home)
			if len(ac.cumRegion) > 0 && ac.cumRegion[len(ac.cumRegion)-1] > 0 {
				other += ac.w
			}
			a.cumOther = append(a.cumOther, other)
		}
	}
	return w
}

func cumulate(acts []wact, regionalOnly bool) []float64 {
	out := make([]float64, len(acts))
	var s float64
	for i, a := range acts {
		if !regionalOnly || !actions[a.a].global {
			s += a.w
		}
		out[i] = s
	}
	return out
}

func (w *world) newPrincipal(a *account, kind pkind, name, path string) *principal {
	h := hashOf(w.seed, hashString(a.id), hashString(name), uint64(kind))
	p := &principal{kind: kind, acct: a, name: name, path: path}
	switch kind {
	case pUser:
		p.arn = "arn:aws:iam::" + a.id + ":user/" + name
		p.id = "AIDA" + charsFrom(h, upperAlnum, 17)
		p.key = "AKIA" + charsFrom(h+1, upperAlnum, 16)
		a.users[name] = p
	case pRole:
		if path == "" {
			p.path = "/"
		}
		p.arn = "arn:aws:iam::" + a.id + ":role" + p.path + name
		p.id = "AROA" + charsFrom(h, upperAlnum, 17)
		a.roles[name] = p
	case pRoot:
		p.arn = "arn:aws:iam::" + a.id + ":root"
		p.id = a.id
		p.name = "root"
	case pService:
		p.arn = ""
	case pAccount:
		p.id = "AIDA" + charsFrom(h, upperAlnum, 17)
	}
	return p
}

func (w *world) addActor(a *account, ac *actor) *actor {
	ac.idx = len(w.actors)
	if ac.sessLen == 0 {
		ac.sessLen = 3600
	}
	w.actors = append(w.actors, ac)
	a.actors = append(a.actors, ac)
	return ac
}

func (w *world) instances(r *rand.Rand, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "i-0" + string(appendHex(nil, r, 16))
	}
	return out
}

func (w *world) buildAccount(r *rand.Rand, a *account, tailUsers, tailRoles int) {
	main := a.idx == 0
	a.root = w.newPrincipal(a, pRoot, "root", "")
	a.buckets = []string{"company-data-" + a.id, "ci-artifacts-" + a.id, "app-uploads-" + a.id, "security-reports-" + a.id}
	a.functions = []string{"orders-api", "thumbnailer", "nightly-report"}
	a.params = []string{"/app/prod/db-host", "/app/prod/db-password", "/app/prod/feature-flags", "/ci/deploy/token"}
	a.secrets = []string{"prod/app/db", "prod/app/stripe-key"}
	a.stacks = []string{"network", "app-prod", "monitoring"}
	a.vpc = "vpc-0" + string(appendHex(nil, r, 16))
	a.sgs = []string{"sg-0" + string(appendHex(nil, r, 16)), "sg-0" + string(appendHex(nil, r, 16))}
	a.amis = []string{"ami-0" + string(appendHex(nil, r, 16))}

	a.kms = map[string][]string{}
	for _, reg := range w.opt.Regions {
		for k := 0; k < 2; k++ {
			a.kms[reg] = append(a.kms[reg], uuidFrom(hashOf(w.seed, hashString(a.id), hashString(reg), uint64(k))))
		}
	}
	a.subnet = "subnet-0" + string(appendHex(nil, r, 16))

	// Roles every account has.
	admin := w.newPrincipal(a, pRole, "Admin", "")
	readOnly := w.newPrincipal(a, pRole, "ReadOnly", "")
	monRole := w.newPrincipal(a, pRole, "MonitoringRole", "")
	lambdaRole := w.newPrincipal(a, pRole, "app-lambda-role", "/service-role/")
	ec2Role := w.newPrincipal(a, pRole, "ec2-web-role", "")
	configRole := w.newPrincipal(a, pRole, "AWSServiceRoleForConfig", "/aws-service-role/config.amazonaws.com/")

	adminActs := []wact{{aIAMListRoles, 2, 0, 0}, {aIAMGetRole, 3, 0, 0}, {aIAMListAttachedRolePolicies, 2, 0, 0},
		{aEC2DescribeInstances, 5, 0, 0}, {aEC2DescribeSecurityGroups, 3, 0, 0}, {aEC2AuthorizeSecurityGroupIngress, 0.3, 0, 0},
		{aS3ListBuckets, 3, 0, 0}, {aS3GetBucketPolicy, 1, 0, 0}, {aS3PutBucketPolicy, 0.2, 0, 0}, {aKMSDescribeKey, 1, 0, 0},
		{aCFNDescribeStacks, 2, 0, 0}, {aLambdaListFunctions, 1, 0, 0}, {aGetCallerIdentity, 1, 0, 0}, {aConsoleGetContactInformation, 0.2, 0, 0}}
	readActs := []wact{{aIAMListUsers, 2, 0, 0}, {aIAMListRoles, 2, 0, 0}, {aEC2DescribeInstances, 4, 0, 0}, {aEC2DescribeVpcs, 2, 0, 0},
		{aS3ListBuckets, 3, 0, 0}, {aS3GetBucketAcl, 2, 0, 0}, {aCWDescribeAlarms, 2, 0, 0}, {aKMSListKeys, 1, 0, 0},
		{aS3PutBucketPolicy, 0.3, 0, 1}, {aEC2RunInstances, 0.2, 0, 1}, {aIAMCreateUser, 0.1, 0, 1}}
	monActs := []wact{{aEC2DescribeInstances, 10, 0.25, 0}, {aCWGetMetricData, 10, 0.2, 0}, {aCWListMetrics, 6, 0.15, 0},
		{aEC2DescribeVolumes, 3, 0.05, 0}, {aCWDescribeAlarms, 2, 0.02, 0}, {aLambdaListFunctions, 1, 0.01, 0}, {aEC2DescribeRegions, 0.5, 0, 0}}
	lambdaActs := []wact{{aS3GetObject, 6, 0, 0.005}, {aS3PutObject, 4, 0, 0}, {aKMSDecrypt, 3, 0, 0}, {aKMSGenerateDataKey, 2, 0, 0},
		{aSSMGetParameter, 3, 0.03, 0}, {aSecretsGetSecretValue, 1, 0, 0}, {aS3HeadObject, 1, 0, 0}}
	ec2Acts := []wact{{aS3GetObject, 6, 0, 0.03}, {aS3PutObject, 3, 0, 0}, {aS3ListObjects, 2, 0, 0}, {aSSMGetParameters, 2, 0.01, 0},
		{aKMSDecrypt, 2, 0, 0}, {aEC2DescribeTags, 1, 0, 0}, {aEC2DescribeInstances, 0.3, 0, 1}, {aLambdaInvoke, 1, 0, 0}, {aGetCallerIdentity, 0.2, 0, 0}}
	configActs := []wact{{aEC2DescribeSecurityGroups, 3, 0, 0}, {aEC2DescribeVpcs, 2, 0, 0}, {aEC2DescribeVolumes, 2, 0, 0},
		{aIAMGetRole, 1, 0, 0}, {aIAMListAttachedRolePolicies, 1, 0, 0}, {aS3GetBucketAcl, 1, 0, 0}, {aS3GetBucketPolicy, 1, 0, 0.1}}

	adminSess := w.addActor(a, &actor{p: admin, mode: mSession, owner: "alice", ips: ips(r, 2, officeFirst), uas: []userAgent{{uaCLIMac, uaCLI}}, w: 3, acts: adminActs, human: true})
	a.admin = adminSess
	w.addActor(a, &actor{p: admin, mode: mConsoleRole, owner: "alice", mfa: true, ips: adminSess.ips, uas: []userAgent{{uaChrome, uaFixed}, {uaInternal, uaFixed}}, w: 1.5, acts: adminActs, human: true})
	roSess := w.addActor(a, &actor{p: readOnly, mode: mSession, owner: "carol", ips: ips(r, 2, officeFirst), uas: []userAgent{{uaBoto3, uaFixed}}, w: 2, acts: readActs, human: true})
	mon := w.addActor(a, &actor{p: monRole, mode: mExtSession, owner: "monitoring-poller", ips: ips(r, 3, awsFirst), uas: []userAgent{{uaGoV2Poller, uaGoV2}}, w: 22, acts: monActs, sessLen: 3600})
	a.monitor = mon
	lam := w.addActor(a, &actor{p: lambdaRole, mode: mLambda, functions: a.functions, ips: ips(r, 6, awsFirst), uas: []userAgent{{uaBoto3Lambda, uaFixed}}, w: 14, acts: lambdaActs, sessLen: 4 * 3600})
	ec2 := w.addActor(a, &actor{p: ec2Role, mode: mEC2, instances: w.instances(r, 3+r.IntN(4)), ips: ips(r, 5, awsFirst), uas: []userAgent{{uaJava, uaFixed}, {uaSSMAgent, uaFixed}}, w: 14, acts: ec2Acts, sessLen: 6 * 3600})
	w.addActor(a, &actor{p: configRole, mode: mSLR, uas: []userAgent{{"config.amazonaws.com", uaFixed}}, w: 3, acts: configActs})

	// AWS services.
	svc := func(host string) *principal { return w.newPrincipal(a, pService, host, "") }
	w.addActor(a, &actor{p: svc("cloudtrail.amazonaws.com"), mode: mService, w: 2, acts: []wact{{aS3GetBucketAcl, 1, 0, 0}, {aKMSGenerateDataKey, 2, 0, 0}}})
	w.addActor(a, &actor{p: svc("lambda.amazonaws.com"), mode: mService, w: 0.6, acts: []wact{{aAssumeRole, 1, 0, 0}}, targets: []*actor{lam}})
	w.addActor(a, &actor{p: svc("ec2.amazonaws.com"), mode: mService, w: 0.3, acts: []wact{{aAssumeRole, 1, 0, 0}}, targets: []*actor{ec2}})
	w.addActor(a, &actor{p: svc("AWS Internal"), mode: mServiceEvent, w: 0.05, acts: []wact{{aKMSRotateKey, 1, 0, 0}}})
	ext := w.newPrincipal(a, pAccount, w.ext, "")
	w.addActor(a, &actor{p: ext, mode: mAccount, ips: mon.ips, uas: mon.uas, w: 0.4, acts: []wact{{aAssumeRole, 1, 0, 0}}, targets: []*actor{mon}})

	userActs := []wact{{aGetCallerIdentity, 1, 0, 0}, {aEC2DescribeInstances, 3, 0.01, 0}, {aS3ListBuckets, 2, 0, 0}, {aS3GetObject, 3, 0, 0.02},
		{aS3PutObject, 1, 0, 0}, {aS3ListObjects, 2, 0, 0}, {aIAMGetUser, 0.5, 0, 0}, {aIAMListAccessKeys, 0.3, 0, 0}, {aKMSDecrypt, 1, 0, 0},
		{aLambdaListFunctions, 0.5, 0, 0}, {aLambdaGetFunction, 0.5, 0, 0}, {aCFNDescribeStacks, 0.5, 0.02, 0}, {aSSMGetParameter, 0.5, 0, 0.05}}
	consoleActs := []wact{{aConsoleLogin, 1, 0, 0}, {aEC2DescribeInstances, 4, 0, 0}, {aEC2DescribeSecurityGroups, 2, 0, 0},
		{aS3ListBuckets, 3, 0, 0}, {aCWDescribeAlarms, 2, 0, 0}, {aLambdaListFunctions, 1, 0, 0}, {aIAMListUsers, 1, 0, 0},
		{aConsoleGetContactInformation, 0.3, 0, 0}, {aCFNDescribeStacks, 1, 0, 0}}
	ciActs := []wact{{aGetCallerIdentity, 2, 0, 0}, {aLambdaUpdateFunctionCode, 2, 0.01, 0}, {aLambdaGetFunction, 3, 0, 0},
		{aS3PutObject, 4, 0, 0}, {aS3HeadObject, 2, 0, 0}, {aCFNDescribeStacks, 4, 0.08, 0}, {aEC2DescribeSecurityGroups, 2, 0, 0},
		{aEC2DescribeVpcs, 1, 0, 0}, {aIAMGetRole, 1, 0, 0}, {aKMSGenerateDataKey, 1, 0, 0}, {aAssumeRole, 0.5, 0, 0}}

	ci := w.newPrincipal(a, pUser, "ci-deploy", "")
	ciIPs, ciUAs := ips(r, 4, awsFirst), []userAgent{{uaTerraform, uaGoV2}, {uaCLILinux, uaCLI}}
	deploy := w.addActor(a, &actor{p: admin, mode: mSession, ips: ciIPs, uas: ciUAs, w: 3, acts: ciActs[1:10]})
	w.addActor(a, &actor{p: ci, mode: mKey, ips: ciIPs, uas: ciUAs, w: 6, acts: ciActs, targets: []*actor{deploy}})

	if main {
		a.rootActor = w.addActor(a, &actor{p: a.root, mode: mRootConsole, mfa: true, ips: ips(r, 1, homeFirst), uas: []userAgent{{uaChrome, uaFixed}}})
		alice := w.newPrincipal(a, pUser, "alice", "")
		bob := w.newPrincipal(a, pUser, "bob", "")
		carol := w.newPrincipal(a, pUser, "carol", "")
		old := w.newPrincipal(a, pUser, "old-admin", "")
		aliceIPs, bobIPs, carolIPs := ips(r, 2, officeFirst), append(ips(r, 1, officeFirst), ips(r, 1, homeFirst)...), ips(r, 2, officeFirst)
		w.addActor(a, &actor{p: alice, mode: mKey, ips: aliceIPs, uas: []userAgent{{uaCLIMac, uaCLI}}, w: 4, human: true,
			acts: append([]wact{{aAssumeRole, 1, 0, 0}, {aIAMListUsers, 0.5, 0, 0}, {aIAMListPolicies, 0.3, 0, 0}}, userActs...), targets: []*actor{adminSess}})
		w.addActor(a, &actor{p: alice, mode: mConsole, mfa: true, ips: aliceIPs, uas: []userAgent{{uaChrome, uaFixed}, {uaInternal, uaFixed}}, w: 2, acts: consoleActs, human: true})
		w.addActor(a, &actor{p: bob, mode: mKey, ips: bobIPs, uas: []userAgent{{uaBoto3, uaFixed}, {uaCLIWin, uaCLI}}, w: 5, acts: userActs, human: true})
		w.addActor(a, &actor{p: bob, mode: mConsole, mfa: false, ips: bobIPs, uas: []userAgent{{uaFirefox, uaFixed}, {uaInternal, uaFixed}}, w: 2, acts: consoleActs, human: true})
		w.addActor(a, &actor{p: carol, mode: mKey, ips: carolIPs, uas: []userAgent{{uaCLILinux, uaCLI}}, w: 3, human: true,
			acts: append([]wact{{aAssumeRole, 1, 0, 0}, {aIAMCreateAccessKey, 0.05, 0, 1}}, userActs...), targets: []*actor{roSess}})
		w.addActor(a, &actor{p: old, mode: mKey, ips: ips(r, 1, homeFirst), uas: []userAgent{{uaCLIWin, uaCLI}}, w: 2, until: w.inactive, human: true,
			acts: append([]wact{{aIAMListUsers, 1, 0, 0}, {aIAMGetAccountSummary, 0.5, 0, 0}}, userActs...)})
	}

	// The long tail: generated users and roles.
	for i := 0; i < tailUsers; i++ {
		name := tailNames[r.IntN(len(tailNames))] + "-" + strconv.Itoa(10+r.IntN(90))
		if i%3 == 1 {
			name = "svc-" + tailWords[r.IntN(len(tailWords))] + "-" + strconv.Itoa(i)
		}
		if a.users[name] != nil {
			continue
		}
		u := w.newPrincipal(a, pUser, name, "")
		ac := &actor{p: u, mode: mKey, ips: ips(r, 1+r.IntN(2), officeFirst), uas: []userAgent{{uaCLILinux, uaCLI}}, w: 0.5 + r.Float64()*2, acts: userActs, human: true}
		if i%4 == 3 {
			ac.until = w.inactive
		}
		if strings.HasPrefix(name, "svc-") {
			ac.uas, ac.ips, ac.human = []userAgent{{uaBoto3, uaFixed}}, ips(r, 1, awsFirst), false
		}
		w.addActor(a, ac)
	}
	for i := 0; i < tailRoles; i++ {
		word := tailWords[r.IntN(len(tailWords))]
		switch i % 3 {
		case 0, 1:
			fn := word + "-" + strconv.Itoa(i)
			role := w.newPrincipal(a, pRole, fn+"-lambda-role", "/service-role/")
			a.functions = append(a.functions, fn)
			w.addActor(a, &actor{p: role, mode: mLambda, functions: []string{fn}, ips: ips(r, 3, awsFirst), uas: []userAgent{{uaBoto3Lambda, uaFixed}},
				w: 0.5 + r.Float64()*3, acts: lambdaActs, sessLen: 4 * 3600})
		default:
			role := w.newPrincipal(a, pRole, word+"-"+strconv.Itoa(i)+"-ec2-role", "")
			w.addActor(a, &actor{p: role, mode: mEC2, instances: w.instances(r, 1+r.IntN(4)), ips: ips(r, 3, awsFirst), uas: []userAgent{{uaJava, uaFixed}},
				w: 0.5 + r.Float64()*3, acts: ec2Acts, sessLen: 6 * 3600})
		}
	}
}

// session is one role or console session, derived from (seed, actor, time window) so every worker
// agrees on it.
type session struct {
	name    string
	key     string // ASIA…
	created int64
}

func (w *world) session(ac *actor, sec int64) session {
	win := w.sessionWindow(ac, sec)
	h := hashOf(w.seed, uint64(ac.idx), uint64(win))
	s := session{key: "ASIA" + charsFrom(h, upperAlnum, 16)}
	s.created = win*ac.sessLen + w.sessionOffset(ac)
	switch ac.mode {
	case mEC2:
		s.name = ac.instances[int(h>>20)%len(ac.instances)]
	case mLambda:
		s.name = ac.functions[int(h>>20)%len(ac.functions)]
	case mSLR:
		s.name = "AWSConfig-Describe"
	case mExtSession, mSession, mConsoleRole:
		s.name = ac.owner
		if s.name == "" {
			s.name = "botocore-session-" + strconv.FormatInt(s.created, 10)
		}
	}
	return s
}

// sessionWindow numbers the session of ac at sec. An actor's sessions start at a fixed offset
// into its windows, so that every event of a session, whichever is generated first (workers
// write files in any order), agrees on when it was created, and none comes before.
func (w *world) sessionWindow(ac *actor, sec int64) int64 {
	return (sec - w.sessionOffset(ac)) / ac.sessLen
}

// sessionOffset is where the actor's sessions start into its windows: up to 10 minutes.
func (w *world) sessionOffset(ac *actor) int64 {
	return int64(hashOf(w.seed, uint64(ac.idx), 0x5e55) % uint64(min(600, ac.sessLen)))
}

// activeAt says whether the actor may act at sec; humans act mostly in office hours.
func (ac *actor) activeAt(sec int64, r *rand.Rand) bool {
	if ac.until != 0 && sec >= ac.until {
		return false
	}
	if ac.human {
		t := time.Unix(sec, 0).UTC()
		h, wd := t.Hour(), t.Weekday()
		if wd == time.Saturday || wd == time.Sunday || h < 7 || h > 19 {
			return r.IntN(10) == 0
		}
	}
	return true
}
