package ouroboros

import (
	"sync/atomic"
	"unsafe"
)

// Every shared word is read with one aligned atomic load of its full width; never assembled from
// bytes. Callers guarantee off is aligned and off+width <= len(b), and that b starts 8-aligned.

func load64(b []byte, off int) uint64 {
	return atomic.LoadUint64((*uint64)(unsafe.Pointer(&b[off])))
}

func load32(b []byte, off int) uint32 {
	return atomic.LoadUint32((*uint32)(unsafe.Pointer(&b[off])))
}

// copyWordsAcquire copies len(dst) bytes from mapped[at:] with 4-byte atomic loads (at is
// 4-aligned). A final partial word is loaded whole when it lies inside the mapping, else by bytes
// (only a dump whose size is not a multiple of 4 ends that way, and nothing writes a dump).
func copyWordsAcquire(dst []byte, mapped []byte, at int) {
	n := len(dst)
	i := 0
	for ; i+4 <= n; i += 4 {
		w := load32(mapped, at+i)
		dst[i] = byte(w)
		dst[i+1] = byte(w >> 8)
		dst[i+2] = byte(w >> 16)
		dst[i+3] = byte(w >> 24)
	}
	if i < n {
		if at+i+4 <= len(mapped) {
			w := load32(mapped, at+i)
			for k := 0; i+k < n; k++ {
				dst[i+k] = byte(w >> (8 * k))
			}
		} else {
			copy(dst[i:], mapped[at+i:at+n])
		}
	}
}

// alignedCopy returns a copy of data whose first byte is 8-aligned.
func alignedCopy(data []byte) []byte {
	if len(data) == 0 {
		return []byte{}
	}
	words := make([]uint64, (len(data)+7)/8)
	out := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(data))
	copy(out, data)
	return out
}
