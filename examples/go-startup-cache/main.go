// A Go service that starts like a real one (standard library only): it reads
// a config file, builds a startup cache of -entries entries (maps, strings and
// slices the GC has to mark), listens on -addr, then sends READY=1 to
// $NOTIFY_SOCKET and serves GET /cache/{key} until SIGTERM. The cache makes
// the heap grow through several GC cycles before ready, which is what
// `coldstart bench --matrix` and `coldstart trace` measure on it.
//
//	go-startup-cache [-entries N] [-config FILE] [-addr HOST:PORT] [-exit-when-ready]
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

// sdNotify sends state to $NOTIFY_SOCKET (sd_notify(3)); a no-op when unset.
func sdNotify(state string) error {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.Write([]byte(state))
	return err
}

// readConfig reads "key = value" lines; '#' starts a comment. A missing file
// is an empty config (the service's defaults), any other error is fatal.
func readConfig(path string) (map[string]string, error) {
	cfg := map[string]string{}
	if path == "" {
		return cfg, nil
	}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return cfg, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s: bad line %q", path, line)
		}
		cfg[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return cfg, sc.Err()
}

// entry is what the cache holds per key: pointers the GC must follow.
type entry struct {
	name  string
	tags  []string
	score float64
}

func buildCache(n int) map[string]*entry {
	cache := make(map[string]*entry)
	for i := 0; i < n; i++ {
		key := "user:" + strconv.Itoa(i)
		cache[key] = &entry{
			name:  fmt.Sprintf("user-%08d", i),
			tags:  []string{"t" + strconv.Itoa(i%97), "g" + strconv.Itoa(i%13)},
			score: float64(i) * 0.5,
		}
	}
	return cache
}

func main() {
	entries := flag.Int("entries", 300000, "startup cache entries")
	config := flag.String("config", "", "config file (key = value lines; missing is empty)")
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	exitWhenReady := flag.Bool("exit-when-ready", false, "exit 0 right after READY=1 (for --ready exit)")
	flag.Parse()

	cfg, err := readConfig(*config)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-startup-cache:", err)
		os.Exit(1)
	}
	if v, ok := cfg["entries"]; ok {
		if *entries, err = strconv.Atoi(v); err != nil {
			fmt.Fprintln(os.Stderr, "go-startup-cache: entries:", err)
			os.Exit(1)
		}
	}
	cache := buildCache(*entries)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-startup-cache:", err)
		os.Exit(1)
	}
	if err := sdNotify(fmt.Sprintf("READY=1\nSTATUS=%d cache entries", len(cache))); err != nil {
		fmt.Fprintln(os.Stderr, "go-startup-cache: notify:", err)
	}
	if *exitWhenReady {
		return
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/cache/", func(w http.ResponseWriter, r *http.Request) {
		e, ok := cache[strings.TrimPrefix(r.URL.Path, "/cache/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, "{\"name\":%q,\"score\":%g}\n", e.name, e.score)
	})
	srv := &http.Server{Handler: mux}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "go-startup-cache:", err)
		os.Exit(1)
	}
}
