package lake

import (
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzHashBlock: a block decodes to the sorted hashes it was made of, whatever they are.
func FuzzHashBlock(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255})
	f.Fuzz(func(t *testing.T, data []byte) {
		var hs []uint64
		for len(data) >= 8 {
			hs = append(hs, binary.LittleEndian.Uint64(data))
			data = data[8:]
		}
		want := slices.Sorted(slices.Values(hs))
		got, err := decodeHashBlock(appendHashBlock(nil, slices.Clone(hs)))
		if err != nil || !slices.Equal(got, want) && len(want) > 0 {
			t.Fatalf("%x: decoded %x (%v)", want, got, err)
		}
	})
}

func TestHashBlockSize(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	hs := make([]uint64, 2500)
	for i := range hs {
		hs[i] = r.Uint64()
	}
	b := appendHashBlock(nil, slices.Clone(hs))
	if bits := float64(len(b)*8) / float64(len(hs)); bits > 55 {
		t.Errorf("%.1f bits per hash, want at most 55", bits)
	}
	got, err := decodeHashBlock(b)
	slices.Sort(hs)
	if err != nil || !slices.Equal(got, hs) {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := decodeHashBlock(b[:len(b)-10]); err == nil {
		t.Error("a truncated block decoded")
	}
}

// Lakes whose hash files are plain uint64 arrays (.bin, written before) still deduplicate, and
// compact into the new form.
func TestBinHashFiles(t *testing.T) {
	root := t.TempDir()
	ingestBatch(t, root, 0, 100)
	ms, err := readManifests(root)
	if err != nil || len(ms) != 1 {
		t.Fatal(ms, err)
	}
	m := ms[0]
	efPath := filepath.Join(root, filepath.FromSlash(m.Hashes))
	var bin []byte
	for i := range m.Files {
		f := &m.Files[i]
		hs, err := readHashes(efPath, f.HashOffset, f.Rows, f.HashBytes)
		if err != nil {
			t.Fatal(err)
		}
		f.HashOffset, f.HashBytes = int64(len(bin)/8), 0
		for _, h := range hs {
			bin = binary.LittleEndian.AppendUint64(bin, h)
		}
	}
	m.Hashes = strings.TrimSuffix(m.Hashes, hashFileExt) + ".bin"
	m.HashesSHA256 = "" // an older lake's manifest: no checksums, unsigned, no key
	for i := range m.Files {
		m.Files[i].SHA256 = ""
	}
	os.Remove(filepath.Join(root, keyFile))
	if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(m.Hashes)), bin, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(efPath)
	data, err := encodeManifest(&m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, commitsDir, manifestName(m.Seq, m.ID)), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := ingestBatch(t, root, 50, 150); got != 50 {
		t.Fatalf("%d added over a .bin hash file, want 50", got)
	}
	w, err := OpenWriter(t.Context(), root, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Compact(t.Context(), 2, 0); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if got := ingestBatch(t, root, 0, 160); got != 10 {
		t.Fatalf("%d added after compaction, want 10", got)
	}
}
