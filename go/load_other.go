//go:build !(amd64 || 386)

package ouroboros

// copyAcquire: on weakly ordered CPUs a plain copy's loads could be satisfied after the row
// re-check that follows; atomic word loads (acquire) keep them in order.
func copyAcquire(dst, src []byte, mapped []byte, at int) {
	copyWordsAcquire(dst, mapped, at)
}
