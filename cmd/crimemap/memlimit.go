package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/crimemap/crimemap/server"
)

// The memory budget of `crimemap serve`: one setting, --memory-limit
// (default: half the memory the machine or container gives the process),
// becomes the Go heap's soft limit (GOMEMLIMIT; an explicit GOMEMLIMIT in
// the environment wins) and bounds what admission control lets heavy
// analyses estimate at once (half of it), so the analyses are refused or
// queued before the garbage collector has to fight for the limit.

// machineMemory returns the bytes this process may use: the cgroup limit
// (v2 memory.max, v1 memory.limit_in_bytes) when one is set, else the
// machine's MemTotal; 0 when neither can be read.
func machineMemory() int64 {
	total := memTotal()
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err == nil && v > 0 && (total == 0 || v < total) {
			return v
		}
	}
	return total
}

// memTotal reads MemTotal from /proc/meminfo (bytes), 0 when it cannot.
func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// defaultMemoryLimit is half of machineMemory, or 4 GiB when unknown.
func defaultMemoryLimit() int64 {
	if m := machineMemory(); m > 0 {
		return m / 2
	}
	return 4 << 30
}

// parseBytes reads a size: a number of bytes with an optional KiB, MiB,
// GiB or TiB suffix (also K, M, G, T, KB, MB, GB, TB as binary units).
func parseBytes(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TIB", 1 << 40}, {"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10},
		{"TB", 1 << 40}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10},
		{"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if v, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(v), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f <= 0 || f*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("%q: want a positive size such as 2GiB or 512MiB", s)
	}
	return int64(f * float64(mult)), nil
}

// applyMemoryLimit sets the heap's soft limit to limit unless GOMEMLIMIT
// is in the environment, and returns the limit in force and where it came
// from.
func applyMemoryLimit(limit int64, getenv func(string) string) (int64, string) {
	if getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1), "GOMEMLIMIT"
	}
	debug.SetMemoryLimit(limit)
	return limit, "--memory-limit"
}

// envFloat reads a number from the environment, def when unset or bad.
func envFloat(env *environment, name string, def float64) float64 {
	if v, err := strconv.ParseFloat(strings.TrimSpace(env.env(name)), 64); err == nil {
		return v
	}
	return def
}

// admissionConfig turns serve's flags into the server's admission settings
// and the memory limit in bytes: heavy analyses may hold half the limit
// at once (at most the slots times the per-request maximum).
func admissionConfig(memLimit, maxReq string, slots, queue int, wait time.Duration, ratePS float64, burst int) (server.AdmissionConfig, int64, error) {
	var c server.AdmissionConfig
	limit := defaultMemoryLimit()
	if memLimit != "" {
		v, err := parseBytes(memLimit)
		if err != nil {
			return c, 0, fmt.Errorf("%w: --memory-limit %w", errUsage, err)
		}
		limit = v
	}
	if maxReq != "" {
		v, err := parseBytes(maxReq)
		if err != nil {
			return c, 0, fmt.Errorf("%w: --max-request-bytes %w", errUsage, err)
		}
		c.MaxRequestBytes = v
	}
	if slots < 0 || queue < 0 || wait < 0 || burst < 0 {
		return c, 0, fmt.Errorf("%w: --heavy-slots, --heavy-queue, --queue-wait and --rate-burst must not be negative", errUsage)
	}
	c.HeavySlots, c.HeavyQueue, c.QueueWait, c.RateBurst = slots, queue, wait, burst
	c.RatePerSecond = ratePS
	if ratePS <= 0 {
		c.RatePerSecond = -1 // no limit
	}
	// The pool's byte budget: half the memory limit, but never less than
	// one request may take.
	d := server.AdmissionConfig{HeavySlots: c.HeavySlots, MaxRequestBytes: c.MaxRequestBytes}.Defaults()
	c.HeavyBytes = max(d.MaxRequestBytes, min(int64(d.HeavySlots)*d.MaxRequestBytes, limit/2))
	return c, limit, nil
}
