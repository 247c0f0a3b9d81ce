package generate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// digestOffset is when in the hour digest files are delivered (CloudTrail keeps one offset per
// trail; the documentation's examples use :01:31).
const digestOffset = 91

// digestEnd is the end of the hourly digest period a delivery at sec falls in.
func digestEnd(sec int64) int64 {
	e := (sec-digestOffset)/3600*3600 + 3600 + digestOffset
	return e
}

// writeDigests writes, for every account and region, the chained digest files of the last three
// hours of deliveries: each lists the log files delivered in its hour with the SHA-256 of their
// uncompressed content, as CloudTrail log file validation does. Signatures are random hex: they
// have the right shape but are not verifiable.
func (w *world) writeDigests(ctx context.Context, dir string, files []*logFile) (int, error) {
	type streamKey struct {
		acct   *account
		region string
	}
	var order []streamKey
	byStream := map[streamKey][]*logFile{}
	for _, f := range files {
		if !f.digest {
			continue
		}
		k := streamKey{f.acct, f.region}
		if byStream[k] == nil {
			order = append(order, k)
		}
		byStream[k] = append(byStream[k], f)
	}
	fw := newFileWriter(w, dir)
	written := 0
	for _, k := range order {
		if err := ctx.Err(); err != nil {
			return written, fmt.Errorf("write digests: %w", err)
		}
		fs := byStream[k]
		r := newRand(w.seed, 0xd16e, hashString(k.acct.id), hashString(k.region))
		fingerprint := string(appendHex(nil, r, 32))
		last := digestEnd(fs[len(fs)-1].deliver)
		var prevKey, prevHash, prevSig string
		for end := last - 2*3600; end <= last; end += 3600 {
			start := end - 3600
			t := time.Unix(end, 0).UTC()
			key := w.accountPrefix(k.acct) + "CloudTrail-Digest/" + k.region + "/" + t.Format("2006/01/02") + "/" +
				k.acct.id + "_CloudTrail-Digest_" + k.region + "_" + w.trail + "_" + k.region + "_" + t.Format("20060102T150405Z") + ".json.gz"
			b := fw.b
			b.b = append(b.b[:0], '{')
			b.str("awsAccountId", k.acct.id)
			b.timeStr("digestStartTime", start)
			b.timeStr("digestEndTime", end)
			b.str("digestS3Bucket", w.bucket)
			b.str("digestS3Object", key)
			b.str("digestPublicKeyFingerprint", fingerprint)
			b.str("digestSignatureAlgorithm", "SHA256withRSA")
			var newest, oldest int64
			var in []*logFile
			for _, f := range fs {
				if f.deliver >= start && f.deliver < end {
					in = append(in, f)
					if newest == 0 || f.newest > newest {
						newest = f.newest
					}
					if oldest == 0 || f.oldest < oldest {
						oldest = f.oldest
					}
				}
			}
			timeOrNull := func(k string, v int64) {
				if v == 0 {
					b.raw(k, "null")
				} else {
					b.timeStr(k, v)
				}
			}
			strOrNull := func(k, v string) {
				if v == "" {
					b.raw(k, "null")
				} else {
					b.str(k, v)
				}
			}
			timeOrNull("newestEventTime", newest)
			timeOrNull("oldestEventTime", oldest)
			bucket, alg := w.bucket, "SHA-256"
			if prevKey == "" {
				bucket, alg = "", ""
			}
			strOrNull("previousDigestS3Bucket", bucket)
			strOrNull("previousDigestS3Object", prevKey)
			strOrNull("previousDigestHashValue", prevHash)
			strOrNull("previousDigestHashAlgorithm", alg)
			strOrNull("previousDigestSignature", prevSig)
			b.arr("logFiles")
			for _, f := range in {
				b.elem()
				b.str("s3Bucket", w.bucket)
				b.str("s3Object", f.key)
				b.str("hashValue", f.sha)
				b.str("hashAlgorithm", "SHA-256")
				b.timeStr("newestEventTime", f.newest)
				b.timeStr("oldestEventTime", f.oldest)
				b.end('}')
			}
			b.end(']')
			b.end('}')
			sum := sha256.Sum256(b.b)
			prevKey, prevHash, prevSig = key, hex.EncodeToString(sum[:]), string(appendHex(nil, r, 512))
			if err := fw.writeGzip(key, b.b); err != nil {
				return written, err
			}
			written++
		}
	}
	return written, nil
}
