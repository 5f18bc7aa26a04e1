// Package ouroboros reads Ouroboros shared-memory ring logs (format v1, docs/format.md) from Go,
// with the standard library only.
//
//	r, err := ouroboros.NewReader("myapp")          // maps /dev/shm/myapp read-only
//	if err != nil { ... }
//	defer r.Close()
//	for {
//		ev, err := r.Next()                          // non-blocking
//		if err != nil { ... }                        // only ErrClosed
//		switch ev.Status {
//		case ouroboros.OK:     use(ev.Entry)
//		case ouroboros.NoData: time.Sleep(time.Millisecond)
//		case ouroboros.Lapped: log.Printf("lost %d entries", ev.Lost)
//		}
//	}
//
// Or block for the next entry with Wait(ctx, poll), which folds gaps, corruption and re-created
// segments into the returned Entry and returns io.EOF once the writer is done.
//
// The reader ports core/src/ring_reader.cpp step for step: every shared word is read with one
// sync/atomic load; payloads are copied, then the chunk row is re-checked (a seqlock read) before
// the copy is handed out; no byte of the segment is trusted. On amd64 and 386 (TSO) the payload
// copy is a plain copy(); on weakly ordered CPUs it is made of atomic (acquire) word loads so the
// row re-check cannot be reordered before it.
//
// The segment's file is untrusted too: the name is opened without following symlinks or blocking
// on a FIFO and must be a regular file, and a file that shrinks under the mapping (SIGBUS) is
// turned into a SegmentTruncated event by debug.SetPanicOnFault around every read of it.
//
// A Reader is not safe for concurrent use; use one per goroutine.
package ouroboros

// Version is the Ouroboros release this module belongs to: the project version of the
// repository's CMakeLists.txt, which every program prints with --version. The module reads ring
// format version 1 and record encoding version 1 (docs/format.md).
const Version = "0.1.0"
