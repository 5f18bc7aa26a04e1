//go:build amd64 || 386

package ouroboros

// copyAcquire copies src into dst such that the loads of src happen before any later atomic
// load. On x86 (TSO) loads are not reordered with older loads, and the Go compiler does not move
// memory accesses across sync/atomic calls, so a plain copy suffices.
func copyAcquire(dst, src []byte, mapped []byte, at int) {
	copy(dst, src)
}
