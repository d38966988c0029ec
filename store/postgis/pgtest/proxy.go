package pgtest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Proxy is a TCP proxy between a test and its database server that the
// test can cut and restore, so that store faults are simulated without
// stopping the server that other tests share.
//
// It listens on 127.0.0.1 (a free port) and forwards every connection to
// its target. Cut closes every open connection and resets new ones as
// soon as they are accepted (a client sees a connection reset or EOF at
// once, as when the database host refuses); Blackhole closes every open
// connection and holds new ones open without forwarding a byte (a client
// waits until its own timeout, as across a network partition); Restore
// forwards again. The listener keeps its port throughout, so URLs stay
// valid.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	mode  proxyMode
	conns map[net.Conn]struct{} // accepted and dialled connections, open
	wg    sync.WaitGroup        // accept loop and forwarding goroutines
}

type proxyMode int

const (
	modeForward proxyMode = iota
	modeCut
	modeBlackhole
	modeClosed
)

// NewProxy starts a proxy to target (host:port) on 127.0.0.1:0.
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("proxy: listen: %w", err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// StartProxy starts a proxy to the host and port of the PostgreSQL URL
// dbURL (e.g. from URL), closes it when t ends, and returns it with dbURL
// pointing at the proxy.
func StartProxy(t testing.TB, dbURL string) (*Proxy, string) {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil || u.Host == "" {
		t.Fatalf("pgtest: proxy: want a postgres://host:port/... URL, got an unparsable one (%v)", err)
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), "5432")
	}
	p, err := NewProxy(target)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	u.Host = p.Addr()
	return p, u.String()
}

// Addr is the proxy's listen address (127.0.0.1:port).
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut closes every open connection and resets every new one until
// Restore.
func (p *Proxy) Cut() { p.setMode(modeCut) }

// Blackhole closes every open connection and holds every new one open,
// silent, until Restore (which closes them).
func (p *Proxy) Blackhole() { p.setMode(modeBlackhole) }

// Restore forwards new connections again; connections held by Blackhole
// are closed, so their clients fail and retry.
func (p *Proxy) Restore() { p.setMode(modeForward) }

// Close stops listening, closes every connection and waits for the
// proxy's goroutines.
func (p *Proxy) Close() error {
	p.setMode(modeClosed)
	err := p.ln.Close()
	p.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// setMode switches the mode and closes every open connection (all of them
// when leaving forwarding, the held ones when restoring).
func (p *Proxy) setMode(m proxyMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == modeClosed || p.mode == m {
		return
	}
	p.mode = m
	for c := range p.conns {
		reset(c)
		delete(p.conns, c)
	}
}

// track registers c as open unless the mode changed from want meanwhile
// (the caller then closes it).
func (p *Proxy) track(want proxyMode, cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode != want {
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *Proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
	}
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.mu.Lock()
		m := p.mode
		p.mu.Unlock()
		switch m {
		case modeForward:
			p.wg.Add(1)
			go p.forward(c)
		case modeBlackhole:
			if !p.track(modeBlackhole, c) {
				reset(c)
			}
		default:
			reset(c)
		}
	}
}

// forward copies both ways between c and a new connection to the target
// until either side closes or the proxy cuts them.
func (p *Proxy) forward(c net.Conn) {
	defer p.wg.Done()
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		reset(c)
		return
	}
	if !p.track(modeForward, c, up) {
		reset(c)
		reset(up)
		return
	}
	var once sync.Once
	closeBoth := func() {
		once.Do(func() {
			p.untrack(c, up)
			c.Close()
			up.Close()
		})
	}
	var wg sync.WaitGroup
	for _, pair := range [][2]net.Conn{{up, c}, {c, up}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			io.Copy(pair[0], pair[1])
			closeBoth()
		}()
	}
	wg.Wait()
}

// reset closes c at once, with a TCP reset rather than an orderly FIN
// when it can, as a failing server or middlebox would.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}
