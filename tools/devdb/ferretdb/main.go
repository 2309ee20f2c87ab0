// Command medseal-ferretdb runs FerretDB v1 embedded, with its SQLite backend, so that
// development and tests have a real MongoDB wire-protocol server without Docker or mongod.
//
// A plain `go install` of FerretDB's own cmd panics at start (its generated version file is
// missing from the module), so this program uses the embeddable `ferretdb` package instead.
//
// It prints one line `ready <mongodb-uri>` on stdout once it listens, and stops cleanly on
// SIGINT/SIGTERM or when its stdin closes (so it never outlives the Node process that
// started it).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "TCP address to listen on (loopback only)")
	dataDir := flag.String("data", "", "folder for the SQLite data files (required)")
	watchStdin := flag.Bool("watch-stdin", false, "stop when stdin reaches EOF")
	flag.Parse()

	if err := run(*listen, *dataDir, *watchStdin); err != nil {
		fmt.Fprintln(os.Stderr, "medseal-ferretdb:", err)
		os.Exit(1)
	}
}

func run(listen, dataDir string, watchStdin bool) error {
	if dataDir == "" {
		return fmt.Errorf("-data is required")
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if watchStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: listen},
		Logger:   slog.New(&lazyAttrs{handler: slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})}),
		Handler:  "sqlite",
		// WAL (FerretDB's default) with synchronous=NORMAL: a commit is not fsynced on its
		// own, so a crash of this process loses nothing but a power cut may lose the last
		// commits. Right for a dev/test database; measured here it doubles write throughput.
		SQLiteURL: "file:" + abs + "/?_pragma=synchronous(normal)",
	})
	if err != nil {
		return err
	}

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	// MongoDBURI needs the listener to be bound; Run binds it first thing.
	deadline := time.Now().Add(30 * time.Second)
	for {
		uri, ok := tryURI(f)
		if ok {
			fmt.Printf("ready %s\n", uri)
			break
		}
		select {
		case err := <-done:
			return fmt.Errorf("stopped before listening: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not listening after 30s")
		}
	}

	err = <-done
	if ctx.Err() != nil {
		return nil // stopped on request
	}
	return err
}

// tryURI returns the connection string once the listener is bound; before that the
// embedded package dereferences a nil address and panics, which is recovered here.
func tryURI(f *ferretdb.FerretDB) (uri string, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return f.MongoDBURI(), true
}

// lazyAttrs defers the attributes of Logger.With until a record is logged. FerretDB's SQL
// layer calls With(args) before every statement, with the whole document among the args, and
// slog's TextHandler formats attributes as soon as it gets them, whatever the level: about a
// tenth of FerretDB's CPU under a stream of inserts went to quoting documents nobody logs.
type lazyAttrs struct {
	handler slog.Handler
	attrs   []slog.Attr
}

func (l *lazyAttrs) Enabled(ctx context.Context, level slog.Level) bool {
	return l.handler.Enabled(ctx, level)
}

func (l *lazyAttrs) Handle(ctx context.Context, r slog.Record) error {
	return l.handler.WithAttrs(l.attrs).Handle(ctx, r)
}

func (l *lazyAttrs) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &lazyAttrs{handler: l.handler, attrs: append(slices.Clip(l.attrs), attrs...)}
}

// WithGroup applies the attributes so far outside the group, as slog requires.
func (l *lazyAttrs) WithGroup(name string) slog.Handler {
	return &lazyAttrs{handler: l.handler.WithAttrs(l.attrs).WithGroup(name)}
}
