package cloudtrail

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProbeDatasets(t *testing.T) {
	filepath.Walk("../../../shared/datasets", func(p string, info os.FileInfo, err error) error {
		if info.IsDir() || strings.HasSuffix(p, ".md") {
			return nil
		}
		f, _ := os.Open(p)
		defer f.Close()
		warns := 0
		var w []string
		res, err := ReadEvents(f, strings.HasSuffix(p, ".csv"), func(e Event) error {
			warns += len(e.Warnings)
			for _, x := range e.Warnings {
				w = append(w, fmt.Sprint(e.Index, x))
			}
			return nil
		})
		fmt.Printf("%-90s ev=%d not=%d digest=%v errs=%d fatal=%v warns=%d err=%v\n", p[24:], res.Events, res.NotEvents, res.Digest, len(res.Errors), res.Fatal, warns, err)
		for _, e := range res.Errors {
			fmt.Println("    ", e)
		}
		if len(w) > 0 && len(w) < 10 {
			fmt.Println("    ", w)
		}
		return nil
	})
}
