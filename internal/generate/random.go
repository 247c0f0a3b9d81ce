package generate

import (
	"math/rand/v2"
)

// mix is the splitmix64 finaliser: a cheap, well-spread hash of one word. Identifiers that must
// agree between files written by different workers (session keys, instance ids) are derived
// from it instead of from a shared random stream.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// hashOf hashes a few words.
func hashOf(vals ...uint64) uint64 {
	h := uint64(0x6a09e667f3bcc909)
	for _, v := range vals {
		h = mix(h ^ v)
	}
	return h
}

// hashString hashes a string (FNV-1a), for seeding from names.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func newRand(vals ...uint64) *rand.Rand {
	return rand.New(rand.NewPCG(hashOf(vals...), hashOf(append(vals, 0x5eed)...)))
}

const (
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	mixedAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	hexDigits  = "0123456789abcdef"
)

// charsFrom makes n characters of alphabet determined by h.
func charsFrom(h uint64, alphabet string, n int) string {
	r := rand.New(rand.NewPCG(h, mix(h)))
	return string(appendChars(nil, r, alphabet, n))
}

// appendChars appends n random characters of alphabet.
func appendChars(b []byte, r *rand.Rand, alphabet string, n int) []byte {
	for n > 0 {
		v := r.Uint64()
		for k := 0; k < 10 && n > 0; k++ {
			b = append(b, alphabet[v%uint64(len(alphabet))])
			v /= uint64(len(alphabet))
			n--
		}
	}
	return b
}

// appendUUID appends a random version-4 UUID.
func appendUUID(b []byte, r *rand.Rand) []byte {
	return appendUUIDFrom(b, r.Uint64(), r.Uint64())
}

func appendUUIDFrom(b []byte, hi, lo uint64) []byte {
	hi = hi&^(0xf<<12) | 0x4<<12
	lo = lo&^(0x3<<62) | 0x2<<62
	var raw [16]byte
	for i := 0; i < 8; i++ {
		raw[i] = byte(hi >> (56 - 8*i))
		raw[8+i] = byte(lo >> (56 - 8*i))
	}
	for i, c := range raw {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&15])
	}
	return b
}

func uuidFrom(h uint64) string {
	return string(appendUUIDFrom(nil, mix(h), mix(h+1)))
}

// appendHex appends n random lower-case hex digits.
func appendHex(b []byte, r *rand.Rand, n int) []byte {
	return appendChars(b, r, hexDigits, n)
}
