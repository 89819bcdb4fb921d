// The reference user-service in Go (standard library only): GET /users/{id}
// answers {"id":1,"name":"Alice"} for id 1 and 404 otherwise. Listens on $ADDR
// (default 127.0.0.1:8081; unix:PATH for an AF_UNIX stream socket at PATH) or
// on the socket passed by socket activation
// (LISTEN_FDS/LISTEN_PID), and sends READY=1 to $NOTIFY_SOCKET once listening.
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

// sdNotify sends state to $NOTIFY_SOCKET (sd_notify(3) protocol); a no-op when unset.
func sdNotify(state string) error {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil
	}
	// An abstract socket is named "@name": Go's net package turns the '@' into
	// the leading NUL itself and leaves no trailing NUL in the address length.
	// (Spelling it "\x00name" would add one, and the connect would be refused.)
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.Write([]byte(state))
	return err
}

// activatedListener returns the first socket passed by socket activation, or nil.
func activatedListener() (net.Listener, error) {
	defer os.Unsetenv("LISTEN_PID")
	defer os.Unsetenv("LISTEN_FDS")
	defer os.Unsetenv("LISTEN_FDNAMES")
	pid, err := strconv.Atoi(os.Getenv("LISTEN_PID"))
	if err != nil || pid != os.Getpid() {
		return nil, nil
	}
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if err != nil || n < 1 {
		return nil, nil
	}
	syscall.CloseOnExec(3)
	return net.FileListener(os.NewFile(3, "LISTEN_FD_3"))
}

func userHandler(w http.ResponseWriter, r *http.Request) {
	idText := strings.TrimPrefix(r.URL.Path, "/users/")
	id, err := strconv.Atoi(idText)
	w.Header().Set("Content-Type", "application/json")
	if err != nil || id != 1 {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":"not found"}`)
		return
	}
	fmt.Fprint(w, `{"id":1,"name":"Alice"}`)
}

func main() {
	ln, err := activatedListener()
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-user-service:", err)
		os.Exit(1)
	}
	if ln == nil {
		addr := os.Getenv("ADDR")
		if addr == "" {
			addr = "127.0.0.1:8081"
		}
		if strings.HasPrefix(addr, "unix:") {
			ln, err = net.Listen("unix", strings.TrimPrefix(addr, "unix:"))
		} else {
			ln, err = net.Listen("tcp", addr)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "go-user-service:", err)
			os.Exit(1)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/users/", userHandler)
	srv := &http.Server{Handler: mux}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		srv.Shutdown(context.Background())
	}()

	fmt.Fprintln(os.Stderr, "go-user-service: listening")
	sdNotify("READY=1\nSTATUS=serving /users/{id}")
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "go-user-service:", err)
		os.Exit(1)
	}
}
