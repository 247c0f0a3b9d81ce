package generate

import (
	"strconv"
	"time"
)

// resource is what an event's body named, for its resources array and TLS host header; set by
// appendBody, written by appendResources.
type resource struct {
	bucket, key    string // S3
	kmsKey         string // KMS key id
	role, roleAcct string // IAM role ARN and its account (AssumeRole)
	function       string // Lambda function ARN (Invoke)
}

const adminPolicy = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}"

func trustPolicy(ext string) string {
	return "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Principal\": {\n        \"Service\": \"ec2.amazonaws.com\"\n      },\n      \"Action\": \"sts:AssumeRole\"\n    },\n    {\n      \"Effect\": \"Allow\",\n      \"Principal\": {\n        \"AWS\": \"arn:aws:iam::" + ext + ":root\"\n      },\n      \"Action\": \"sts:AssumeRole\"\n    }\n  ]\n}"
}

var (
	s3Prefixes = []string{"exports", "reports", "uploads", "builds", "backups", "images", "logs"}
	roleNames  = []string{"Admin", "ReadOnly", "MonitoringRole", "app-lambda-role", "ec2-web-role"}
	namespaces = []string{"AWS/EC2", "AWS/Lambda", "AWS/S3", "AWS/RDS", "AWS/ApplicationELB"}
)

func (b *builder) bucketFor(e *evSpec, rec *account) string {
	switch {
	case e.errCode == "AccessDenied":
		return rec.buckets[3]
	case e.ac.mode == mKey && e.ac.p.name == "ci-deploy", e.ac.mode == mSession && e.ac.owner == "":
		return rec.buckets[1]
	case e.ac.mode == mLambda:
		return rec.buckets[2]
	}
	return rec.buckets[b.r.IntN(3)]
}

func (b *builder) objectKey(sec int64) string {
	t := time.Unix(sec, 0).UTC()
	k := make([]byte, 0, 64)
	k = append(k, s3Prefixes[b.r.IntN(len(s3Prefixes))]...)
	k = append(k, '/')
	k = appendPad(k, t.Year(), 4)
	k = append(k, '/')
	k = appendPad(k, int(t.Month()), 2)
	k = append(k, '/')
	k = appendPad(k, t.Day(), 2)
	k = append(k, '/')
	k = appendHex(k, b.r, 12)
	switch b.r.IntN(3) {
	case 0:
		k = append(k, ".json.gz"...)
	case 1:
		k = append(k, ".parquet"...)
	default:
		k = append(k, ".jpg"...)
	}
	return string(k)
}

func (b *builder) s3Extra(in, out int64) {
	b.obj("additionalEventData")
	b.str("SignatureVersion", "SigV4")
	b.str("CipherSuite", "TLS_AES_128_GCM_SHA256")
	b.num("bytesTransferredIn", in)
	b.str("AuthenticationMethod", "AuthHeader")
	b.key("x-amz-id-2")
	b.b = append(b.b, '"')
	b.b = appendChars(b.b, b.r, mixedAlnum, 56)
	b.b = append(b.b, '=', '"')
	b.num("bytesTransferredOut", out)
	b.end('}')
}

// appendBody writes requestParameters, responseElements and additionalEventData of e, shaped as
// real events of the same name, and returns the bucket named (for the TLS host header).
func (b *builder) appendBody(e *evSpec, id *identity, rec *account) (bucket string) {
	r, region := b.r, b.region
	failed := e.errCode != "" || e.loginFail
	b.res = resource{}
	res := &b.res
	reqNull := func() { b.raw("requestParameters", "null") }
	respNull := func() { b.raw("responseElements", "null") }
	switch e.act {
	case aGetCallerIdentity, aIAMGetAccountSummary, aLambdaListFunctions, aConsoleGetContactInformation:
		reqNull()
		respNull()
	case aIAMListUsers, aIAMListRoles:
		b.raw("requestParameters", `{"maxItems":100}`)
		respNull()
	case aEC2DescribeRegions:
		b.raw("requestParameters", `{"regionSet":{}}`)
		respNull()
	case aKMSRotateKey:
		reqNull()
		respNull()
		res.kmsKey = rec.kms[region][0]
	case aAssumeRole:
		t := e.target
		s := b.session(t, e.sec+1)
		res.role, res.roleAcct = t.p.arn, t.p.acct.id
		b.obj("requestParameters")
		b.str("roleArn", t.p.arn)
		b.str("roleSessionName", s.name)
		if t.mode == mExtSession {
			b.str("externalId", "mon-"+t.p.acct.id[:6])
		}
		if e.ac.mode != mService {
			b.num("durationSeconds", 3600)
		}
		b.end('}')
		if failed {
			respNull()
			break
		}
		b.obj("responseElements")
		b.obj("credentials")
		b.str("accessKeyId", s.key)
		b.key("sessionToken")
		b.b = append(b.b, `"IQoJb3JpZ2luX2VjE`...)
		b.b = appendChars(b.b, r, mixedAlnum+"+/", 180)
		b.b = append(b.b, '=', '"')
		b.str("expiration", time.Unix(e.sec+3600, 0).UTC().Format("Jan 2, 2006, 3:04:05 PM"))
		b.end('}')
		b.obj("assumedRoleUser")
		b.str("assumedRoleId", t.p.id+":"+s.name)
		b.str("arn", "arn:aws:sts::"+t.p.acct.id+":assumed-role/"+t.p.name+"/"+s.name)
		b.end('}')
		b.end('}')
	case aIAMGetUser, aIAMListAccessKeys, aIAMListAttachedUserPolicies, aIAMListMFADevices:
		u := e.targetUser
		if u == "" {
			u = id.userName
			if u == "" || u == "HIDDEN_DUE_TO_SECURITY_REASONS" {
				u = "ci-deploy"
			}
		}
		b.obj("requestParameters")
		b.str("userName", u)
		b.end('}')
		respNull()
	case aIAMGetRole, aIAMListAttachedRolePolicies:
		b.obj("requestParameters")
		b.str("roleName", roleNames[r.IntN(len(roleNames))])
		b.end('}')
		respNull()
	case aIAMListPolicies:
		b.raw("requestParameters", `{"scope":"Local","onlyAttached":false,"policyUsageFilter":"PermissionsPolicy"}`)
		respNull()
	case aIAMCreateUser:
		u := e.targetUser
		if u == "" {
			u = "tmp-user-" + strconv.Itoa(r.IntN(1000))
		}
		b.obj("requestParameters")
		b.str("userName", u)
		b.end('}')
		if failed {
			respNull()
			break
		}
		b.obj("responseElements")
		b.obj("user")
		b.str("path", "/")
		b.str("userName", u)
		b.str("userId", "AIDA"+string(appendChars(nil, r, upperAlnum, 17)))
		b.str("arn", "arn:aws:iam::"+rec.id+":user/"+u)
		b.str("createDate", awsDate(e.sec))
		b.end('}')
		b.end('}')
	case aIAMCreatePolicyVersion:
		b.obj("requestParameters")
		b.str("policyArn", e.policyARN)
		b.str("policyDocument", adminPolicy)
		b.boolean("setAsDefault", true)
		b.end('}')
		if failed {
			respNull()
			break
		}
		b.obj("responseElements")
		b.obj("policyVersion")
		b.str("versionId", "v"+strconv.Itoa(2+r.IntN(3)))
		b.boolean("isDefaultVersion", true)
		b.str("createDate", awsDate(e.sec))
		b.end('}')
		b.end('}')
	case aIAMAttachUserPolicy:
		b.obj("requestParameters")
		b.str("userName", e.targetUser)
		b.str("policyArn", e.policyARN)
		b.end('}')
		respNull()
	case aIAMCreateAccessKey:
		u := e.targetUser
		if u == "" {
			u = "ci-deploy"
		}
		b.obj("requestParameters")
		b.str("userName", u)
		b.end('}')
		if failed {
			respNull()
			break
		}
		b.obj("responseElements")
		b.obj("accessKey")
		b.str("accessKeyId", "AKIA"+string(appendChars(nil, r, upperAlnum, 16)))
		b.str("createDate", awsDate(e.sec))
		b.str("status", "Active")
		b.str("userName", u)
		b.end('}')
		b.end('}')
	case aIAMCreateLoginProfile:
		b.obj("requestParameters")
		b.boolean("passwordResetRequired", false)
		b.str("userName", e.targetUser)
		b.end('}')
		if failed {
			respNull()
			break
		}
		b.obj("responseElements")
		b.obj("loginProfile")
		b.str("createDate", awsDate(e.sec))
		b.boolean("passwordResetRequired", false)
		b.str("userName", e.targetUser)
		b.end('}')
		b.end('}')
	case aIAMUpdateAssumeRolePolicy:
		b.obj("requestParameters")
		b.str("policyDocument", trustPolicy(b.w.ext))
		b.str("roleName", e.targetUser)
		b.end('}')
		respNull()
	case aEC2DescribeInstances:
		if e.ac.mode == mExtSession {
			b.raw("requestParameters", `{"instancesSet":{},"filterSet":{},"maxResults":1000}`)
		} else {
			b.raw("requestParameters", `{"instancesSet":{},"filterSet":{}}`)
		}
		respNull()
	case aEC2DescribeSecurityGroups:
		b.raw("requestParameters", `{"securityGroupSet":{},"securityGroupIdSet":{},"filterSet":{}}`)
		respNull()
	case aEC2DescribeVpcs:
		b.raw("requestParameters", `{"vpcSet":{},"filterSet":{}}`)
		respNull()
	case aEC2DescribeVolumes:
		b.raw("requestParameters", `{"volumeSet":{},"volumeIdSet":{},"filterSet":{}}`)
		respNull()
	case aEC2DescribeTags:
		inst := "i-0" + string(appendHex(nil, r, 16))
		if e.ac.mode == mEC2 {
			inst = id.sess.name
		}
		b.raw("requestParameters", `{"filterSet":{"items":[{"name":"resource-id","valueSet":{"items":[{"value":"`+inst+`"}]}}]}}`)
		respNull()
	case aEC2AuthorizeSecurityGroupIngress:
		b.obj("requestParameters")
		b.str("groupId", rec.sgs[0])
		b.raw("ipPermissions", `{"items":[{"ipProtocol":"tcp","fromPort":443,"toPort":443,"groups":{},"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]},"ipv6Ranges":{},"prefixListIds":{}}]}`)
		b.end('}')
		if failed {
			respNull()
			break
		}
		b.obj("responseElements")
		b.str("requestId", uuidFrom(r.Uint64()))
		b.boolean("_return", true)
		b.end('}')
	case aEC2RunInstances:
		profile := e.targetUser
		b.obj("requestParameters")
		b.obj("instancesSet")
		b.arr("items")
		b.elem()
		b.str("imageId", rec.amis[0])
		b.num("minCount", 1)
		b.num("maxCount", 1)
		b.end('}')
		b.end(']')
		b.end('}')
		b.str("instanceType", "t3.micro")
		b.raw("blockDeviceMapping", "{}")
		b.raw("monitoring", `{"enabled":false}`)
		b.boolean("disableApiTermination", false)
		b.boolean("disableApiStop", false)
		b.str("clientToken", uuidFrom(r.Uint64()))
		b.str("subnetId", rec.subnet)
		if profile != "" {
			b.obj("iamInstanceProfile")
			b.str("name", profile)
			b.end('}')
		}
		b.end('}')
		if failed {
			respNull()
			break
		}
		inst := "i-0" + string(appendHex(nil, r, 16))
		b.obj("responseElements")
		b.str("requestId", uuidFrom(r.Uint64()))
		b.str("reservationId", "r-0"+string(appendHex(nil, r, 16)))
		b.str("ownerId", rec.id)
		b.raw("groupSet", "{}")
		b.obj("instancesSet")
		b.arr("items")
		b.elem()
		b.str("instanceId", inst)
		b.str("imageId", rec.amis[0])
		b.raw("instanceState", `{"code":0,"name":"pending"}`)
		b.str("instanceType", "t3.micro")
		b.str("subnetId", rec.subnet)
		b.str("vpcId", rec.vpc)
		if profile != "" {
			b.obj("iamInstanceProfile")
			b.str("arn", "arn:aws:iam::"+rec.id+":instance-profile/"+profile)
			b.str("id", "AIPA"+string(appendChars(nil, r, upperAlnum, 17)))
			b.end('}')
		}
		b.end('}')
		b.end(']')
		b.end('}')
		b.end('}')
	case aS3ListBuckets:
		b.obj("requestParameters")
		b.str("Host", "s3."+region+".amazonaws.com")
		b.end('}')
		respNull()
		b.s3Extra(0, int64(1200+r.IntN(3000)))
	case aS3GetBucketAcl, aS3GetBucketPolicy, aS3GetBucketLocation, aS3PutBucketPolicy:
		bucket = b.bucketFor(e, rec)
		if e.ac.mode == mService {
			bucket = b.w.bucket
		}
		res.bucket = bucket
		b.obj("requestParameters")
		b.str("bucketName", bucket)
		b.str("Host", bucket+".s3."+region+".amazonaws.com")
		switch e.act {
		case aS3GetBucketAcl:
			b.str("acl", "")
		case aS3GetBucketPolicy:
			b.str("policy", "")
		case aS3GetBucketLocation:
			b.str("location", "")
		case aS3PutBucketPolicy:
			b.str("policy", "")
			b.str("bucketPolicy", `{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecure","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::`+bucket+`/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)
		}
		b.end('}')
		respNull()
		b.s3Extra(0, int64(r.IntN(1000)))
	case aS3GetObject, aS3PutObject, aS3HeadObject, aS3DeleteObject, aS3ListObjects:
		bucket = b.bucketFor(e, rec)
		res.bucket = bucket
		b.obj("requestParameters")
		b.str("bucketName", bucket)
		b.str("Host", bucket+".s3."+region+".amazonaws.com")
		if e.act == aS3ListObjects {
			b.str("list-type", "2")
			b.str("prefix", s3Prefixes[r.IntN(len(s3Prefixes))]+"/")
			b.str("encoding-type", "url")
		} else {
			res.key = b.objectKey(e.sec)
			b.str("key", res.key)
		}
		b.end('}')
		if e.act == aS3PutObject && !failed {
			b.raw("responseElements", `{"x-amz-server-side-encryption":"aws:kms","x-amz-version-id":"`+string(appendChars(nil, r, mixedAlnum, 32))+`"}`)
		} else {
			respNull()
		}
		var in, out int64
		switch e.act {
		case aS3GetObject:
			if !failed {
				out = int64(1000 + r.IntN(5_000_000))
			}
		case aS3PutObject:
			in = int64(1000 + r.IntN(5_000_000))
		case aS3ListObjects:
			out = int64(300 + r.IntN(40000))
		}
		b.s3Extra(in, out)
	case aKMSDecrypt, aKMSGenerateDataKey, aKMSEncrypt, aKMSDescribeKey:
		keyID := rec.kms[region][r.IntN(2)]
		keyARN := "arn:aws:kms:" + region + ":" + rec.id + ":key/" + keyID
		res.kmsKey = keyID
		b.obj("requestParameters")
		switch e.act {
		case aKMSDecrypt:
			b.str("encryptionAlgorithm", "SYMMETRIC_DEFAULT")
			b.obj("encryptionContext")
			if e.ac.mode == mLambda {
				b.str("aws:lambda:FunctionArn", "arn:aws:lambda:"+region+":"+rec.id+":function:"+id.sess.name)
			} else {
				b.str("aws:s3:arn", "arn:aws:s3:::"+rec.buckets[0])
			}
			b.end('}')
		case aKMSGenerateDataKey:
			b.str("keyId", keyARN)
			b.str("keySpec", "AES_256")
			b.obj("encryptionContext")
			if e.ac.mode == mService {
				b.str("aws:cloudtrail:arn", "arn:aws:cloudtrail:"+b.w.home+":"+b.w.accounts[0].id+":trail/"+b.w.trail)
			} else {
				b.str("aws:s3:arn", "arn:aws:s3:::"+rec.buckets[1])
			}
			b.end('}')
		case aKMSEncrypt:
			b.str("keyId", "alias/app")
			b.str("encryptionAlgorithm", "SYMMETRIC_DEFAULT")
		case aKMSDescribeKey:
			b.str("keyId", keyID)
		}
		b.end('}')
		respNull()
	case aKMSListKeys:
		b.raw("requestParameters", `{"limit":100}`)
		respNull()
	case aLambdaGetFunction, aLambdaUpdateFunctionCode, aLambdaInvoke:
		fn := rec.functions[r.IntN(len(rec.functions))]
		fnARN := "arn:aws:lambda:" + region + ":" + rec.id + ":function:" + fn
		if e.act == aLambdaInvoke {
			res.function = fnARN
		}
		b.obj("requestParameters")
		b.str("functionName", fn)
		if e.act == aLambdaUpdateFunctionCode {
			b.boolean("publish", true)
			b.boolean("dryRun", false)
		}
		if e.act == aLambdaInvoke {
			b.str("invocationType", "RequestResponse")
		}
		b.end('}')
		if e.act != aLambdaUpdateFunctionCode || failed {
			respNull()
			if e.act == aLambdaInvoke {
				b.raw("additionalEventData", `{"functionVersion":"`+fnARN+`:$LATEST"}`)
			}
			break
		}
		b.obj("responseElements")
		b.str("functionName", fn)
		b.str("functionArn", fnARN)
		b.str("runtime", "python3.12")
		b.str("role", "arn:aws:iam::"+rec.id+":role/service-role/app-lambda-role")
		b.str("handler", "app.handler")
		b.num("codeSize", int64(2000+r.IntN(9_000_000)))
		b.str("description", "")
		b.num("timeout", 30)
		b.num("memorySize", 512)
		b.str("lastModified", time.Unix(e.sec, 0).UTC().Format("2006-01-02T15:04:05.000+0000"))
		b.str("codeSha256", string(appendChars(nil, r, mixedAlnum, 43))+"=")
		b.str("version", strconv.Itoa(1+r.IntN(200)))
		b.raw("tracingConfig", `{"mode":"PassThrough"}`)
		b.str("revisionId", uuidFrom(r.Uint64()))
		b.str("state", "Active")
		b.str("lastUpdateStatus", "InProgress")
		b.str("packageType", "Zip")
		b.raw("architectures", `["arm64"]`)
		b.raw("ephemeralStorage", `{"size":512}`)
		b.end('}')
	case aLambdaCreateFunction:
		fn := "maintenance-" + string(appendHex(nil, r, 6))
		fnARN := "arn:aws:lambda:" + region + ":" + rec.id + ":function:" + fn
		roleARN := "arn:aws:iam::" + rec.id + ":role/" + e.targetUser
		b.obj("requestParameters")
		b.str("functionName", fn)
		b.str("runtime", "python3.12")
		b.str("role", roleARN)
		b.str("handler", "lambda_function.lambda_handler")
		b.raw("code", "{}")
		b.boolean("publish", true)
		b.end('}')
		if failed {
			respNull()
			break
		}
		b.obj("responseElements")
		b.str("functionName", fn)
		b.str("functionArn", fnARN)
		b.str("runtime", "python3.12")
		b.str("role", roleARN)
		b.str("handler", "lambda_function.lambda_handler")
		b.num("codeSize", 311)
		b.str("state", "Pending")
		b.str("stateReason", "The function is being created.")
		b.str("stateReasonCode", "Creating")
		b.end('}')
	case aCWGetMetricData:
		b.obj("requestParameters")
		b.raw("metricDataQueries", `[{"id":"m1","metricStat":{"metric":{"namespace":"AWS/EC2","metricName":"CPUUtilization","dimensions":[{"name":"AutoScalingGroupName","value":"web-asg"}]},"period":300,"stat":"Average"},"returnData":true}]`)
		b.timeStr("startTime", e.sec-600)
		b.timeStr("endTime", e.sec)
		b.end('}')
		respNull()
	case aCWListMetrics:
		b.obj("requestParameters")
		b.str("namespace", namespaces[r.IntN(len(namespaces))])
		b.end('}')
		respNull()
	case aCWDescribeAlarms:
		b.raw("requestParameters", `{"maxRecords":100}`)
		respNull()
	case aConsoleLogin:
		reqNull()
		if e.loginFail {
			b.raw("responseElements", `{"ConsoleLogin":"Failure"}`)
		} else {
			b.raw("responseElements", `{"ConsoleLogin":"Success"}`)
		}
		b.obj("additionalEventData")
		b.str("LoginTo", "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true")
		b.str("MobileVersion", "No")
		if e.ac.mfa && !e.loginFail {
			b.str("MFAIdentifier", "arn:aws:iam::"+e.ac.p.acct.id+":mfa/"+e.ac.p.name)
			b.str("MFAUsed", "Yes")
		} else {
			b.str("MFAUsed", "No")
		}
		b.end('}')
	case aSSMGetParameter:
		b.obj("requestParameters")
		b.str("name", rec.params[r.IntN(len(rec.params))])
		b.boolean("withDecryption", true)
		b.end('}')
		respNull()
	case aSSMGetParameters:
		b.raw("requestParameters", `{"names":["`+rec.params[0]+`","`+rec.params[2]+`"],"withDecryption":true}`)
		respNull()
	case aSecretsGetSecretValue:
		b.obj("requestParameters")
		b.str("secretId", "arn:aws:secretsmanager:"+region+":"+rec.id+":secret:"+rec.secrets[r.IntN(len(rec.secrets))]+"-"+charsFrom(hashString(rec.id), mixedAlnum, 6))
		b.end('}')
		respNull()
	case aCFNDescribeStacks:
		b.obj("requestParameters")
		b.str("stackName", rec.stacks[r.IntN(len(rec.stacks))])
		b.end('}')
		respNull()
	default:
		reqNull()
		respNull()
	}
	return bucket
}

// appendResources writes the resources array real events of the kind carry.
func (b *builder) appendResources(e *evSpec, rec *account) {
	res := &b.res
	switch {
	case res.role != "":
		b.arr("resources")
		b.elem()
		b.str("accountId", res.roleAcct)
		b.str("type", "AWS::IAM::Role")
		b.str("ARN", res.role)
		b.end('}')
		b.end(']')
	case res.bucket != "":
		b.arr("resources")
		if res.key != "" {
			b.elem()
			b.str("type", "AWS::S3::Object")
			b.str("ARN", "arn:aws:s3:::"+res.bucket+"/"+res.key)
			b.end('}')
		}
		b.elem()
		b.str("accountId", rec.id)
		b.str("type", "AWS::S3::Bucket")
		b.str("ARN", "arn:aws:s3:::"+res.bucket)
		b.end('}')
		b.end(']')
	case res.kmsKey != "":
		b.arr("resources")
		b.elem()
		b.str("accountId", rec.id)
		b.str("type", "AWS::KMS::Key")
		b.str("ARN", "arn:aws:kms:"+b.region+":"+rec.id+":key/"+res.kmsKey)
		b.end('}')
		b.end(']')
	case res.function != "":
		b.arr("resources")
		b.elem()
		b.str("accountId", rec.id)
		b.str("type", "AWS::Lambda::Function")
		b.str("ARN", res.function)
		b.end('}')
		b.end(']')
	}
}

// awsDate formats times as IAM responses do ("Jul 30, 2024 9:53:13 PM").
func awsDate(sec int64) string {
	return time.Unix(sec, 0).UTC().Format("Jan 2, 2006 3:04:05 PM")
}
