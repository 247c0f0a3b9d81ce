package notify

import (
	"context"
	"fmt"
	"testing"
)

// discard is a destination that accepts everything at once.
type discard struct{}

func (discard) Send(context.Context, []Message) error { return nil }

// BenchmarkEnqueue measures what Enqueue costs its caller: one write and fsync per destination,
// for batches of 1 and 100 alerts routed to 3 destinations.
func BenchmarkEnqueue(b *testing.B) {
	for _, size := range []int{1, 100} {
		b.Run(fmt.Sprintf("alerts=%d", size), func(b *testing.B) {
			dests := map[string]Destination{"a": discard{}, "b": discard{}, "c": discard{}}
			n, err := New(b.TempDir(), dests, []Route{{Destinations: []string{"a", "b", "c"}}}, Options{QueueCapacity: 1 << 30})
			if err != nil {
				b.Fatal(err)
			}
			defer n.Close()
			i := 0
			for b.Loop() {
				if err := n.Enqueue(testMessages(fmt.Sprint("bench-", i, "-"), size)...); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkDeliver measures a send loop's own cost per message (outbox records included) with a
// destination that takes no time.
func BenchmarkDeliver(b *testing.B) {
	n, err := New(b.TempDir(), map[string]Destination{"a": discard{}}, []Route{{Destinations: []string{"a"}}}, Options{QueueCapacity: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	msgs := testMessages("deliver-", b.N)
	b.ResetTimer()
	if err := n.Enqueue(msgs...); err != nil {
		b.Fatal(err)
	}
	stop := runNotifier(b, n)
	waitFor(b, n, "all delivered", func() bool { return n.Stats()["a"].Delivered == b.N })
	stop()
}
