package pgtest_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/postgis"
	"github.com/crimemap/crimemap/store/postgis/pgtest"
)

// echoServer answers every line with the same line until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line on c and reads it back within d.
func roundTrip(c net.Conn, r *bufio.Reader, line string, d time.Duration) error {
	c.SetDeadline(time.Now().Add(d))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return err
	}
	got, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	if got != line+"\n" {
		return errors.New("echo mismatch: " + got)
	}
	return nil
}

func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

func TestProxyCutRestore(t *testing.T) {
	p, err := pgtest.NewProxy(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	c, r := dial(t, p.Addr())
	if err := roundTrip(c, r, "hello", time.Second); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}

	p.Cut()
	if err := roundTrip(c, r, "after cut", time.Second); err == nil {
		t.Fatal("an open connection still works after Cut")
	} else if isTimeout(err) {
		t.Fatalf("an open connection hangs after Cut instead of failing: %v", err)
	}
	// A new connection is reset at once: its connect or first exchange fails.
	if c2, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		err = roundTrip(c2, bufio.NewReader(c2), "new", time.Second)
		c2.Close()
		if err == nil || isTimeout(err) {
			t.Fatalf("a new connection after Cut: %v, want a prompt failure", err)
		}
	}

	p.Restore()
	c3, r3 := dial(t, p.Addr())
	if err := roundTrip(c3, r3, "restored", time.Second); err != nil {
		t.Fatalf("after Restore: %v", err)
	}
}

func TestProxyBlackhole(t *testing.T) {
	p, err := pgtest.NewProxy(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, r := dial(t, p.Addr())
	if err := roundTrip(c, r, "hello", time.Second); err != nil {
		t.Fatal(err)
	}

	p.Blackhole()
	if err := roundTrip(c, r, "after", time.Second); err == nil || isTimeout(err) {
		t.Fatalf("an open connection after Blackhole: %v, want a prompt failure", err)
	}
	held, hr := dial(t, p.Addr())
	if err := roundTrip(held, hr, "silence", 200*time.Millisecond); !isTimeout(err) {
		t.Fatalf("a new connection after Blackhole: %v, want a timeout", err)
	}

	p.Restore()
	held.SetDeadline(time.Now().Add(time.Second))
	if _, err := hr.ReadString('\n'); err == nil || isTimeout(err) {
		t.Fatalf("a held connection after Restore: %v, want it closed", err)
	}
	c2, r2 := dial(t, p.Addr())
	if err := roundTrip(c2, r2, "restored", time.Second); err != nil {
		t.Fatalf("after Restore: %v", err)
	}
}

func TestProxyClose(t *testing.T) {
	p, err := pgtest.NewProxy(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	c, r := dial(t, p.Addr())
	if err := roundTrip(c, r, "x", time.Second); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close does not return with a connection open")
	}
	if _, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		t.Error("the proxy still accepts after Close")
	}
}

// TestProxyPostGIS cuts a PostGIS store's connections: its calls fail at
// once, and after Restore the pool reconnects by itself.
func TestProxyPostGIS(t *testing.T) {
	p, url := pgtest.StartProxy(t, pgtest.URL(t))
	ctx := t.Context()
	s, err := postgis.Open(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Counts(ctx); err != nil {
		t.Fatal(err)
	}

	p.Cut()
	start := time.Now()
	if _, err := s.Units(ctx, store.UnitQuery{}); err == nil {
		t.Fatal("Units succeeds with the store cut")
	} else if time.Since(start) > 2*time.Second {
		t.Errorf("Units took %v to fail with the store cut", time.Since(start))
	}
	if err := s.Ping(ctx); err == nil {
		t.Fatal("Ping succeeds with the store cut")
	}

	p.Restore()
	if _, err := s.Counts(ctx); err != nil {
		t.Fatalf("Counts after Restore (the pool should reconnect): %v", err)
	}

	p.Blackhole()
	pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	err = s.Ping(pctx)
	cancel()
	if err == nil {
		t.Fatal("Ping succeeds with the store black-holed")
	}
	p.Restore()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after Restore: %v", err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) ||
		err != nil && strings.Contains(err.Error(), "i/o timeout")
}
