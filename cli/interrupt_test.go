package cli

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestInterrupts checks the two-stage Ctrl-C: for a command that stops softly (apply) the
// first interrupt closes Stop and leaves the context alive, and the second cancels it; for
// any other command the first interrupt cancels at once.
func TestInterrupts(t *testing.T) {
	for _, soft := range []bool{true, false} {
		name := map[bool]string{true: "soft", false: "hard"}[soft]
		t.Run(name, func(t *testing.T) {
			sig := make(chan os.Signal, 2)
			var errOut lockedBuffer
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stop := make(chan struct{})
			rt := &Runtime{Ctx: ctx, IO: IO{Err: &errOut, Interrupts: sig}, Stop: stop}
			rt.softStop.Store(soft)
			done := make(chan struct{})
			go func() { watchInterrupts(ctx, rt, stop, cancel); close(done) }()

			sig <- os.Interrupt
			select {
			case <-stop:
			case <-time.After(5 * time.Second):
				t.Fatal("the first interrupt did not close Stop")
			}
			if !soft {
				<-done
				if ctx.Err() == nil {
					t.Fatal("the first interrupt did not cancel a command that cannot stop softly")
				}
				return
			}
			// The watcher prints its notice before waiting for the second interrupt.
			for deadline := time.Now().Add(5 * time.Second); !strings.Contains(errOut.String(), "press Ctrl-C again"); {
				if time.Now().After(deadline) {
					t.Fatalf("no notice after the first interrupt: %q", errOut.String())
				}
				time.Sleep(time.Millisecond)
			}
			if ctx.Err() != nil {
				t.Fatal("the first interrupt cancelled a command that stops softly")
			}
			sig <- os.Interrupt
			<-done
			if ctx.Err() == nil {
				t.Fatal("the second interrupt did not cancel")
			}
		})
	}
}

// TestProgress checks that the progress bar draws with an ETA on a terminal, clears itself
// when done, and writes nothing elsewhere.
func TestProgress(t *testing.T) {
	now := time.Unix(0, 0)
	clock := func() time.Time { return now }

	var term bytes.Buffer
	p := newProgress(&term, true, clock)
	now = now.Add(10 * time.Second)
	p.update(25, 100)
	if got := term.String(); !strings.Contains(got, "[#######-----------------------] 25/100 changes, ETA 30s") {
		t.Errorf("progress line = %q", got)
	}
	p.done()
	if !strings.HasSuffix(term.String(), "\r\x1b[K") {
		t.Errorf("the bar is not cleared when done: %q", term.String())
	}

	var pipe bytes.Buffer
	q := newProgress(&pipe, false, clock)
	q.update(1, 2)
	q.done()
	if pipe.Len() != 0 {
		t.Errorf("progress written off a terminal: %q", pipe.String())
	}
}

// lockedBuffer is a bytes.Buffer safe for one writer and one reader at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
