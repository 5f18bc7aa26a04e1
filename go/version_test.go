package ouroboros

import (
	"os"
	"regexp"
	"testing"
)

// The module states the project version of the top-level CMakeLists.txt.
func TestVersionIsTheCMakeVersion(t *testing.T) {
	text, err := os.ReadFile("../CMakeLists.txt")
	if err != nil {
		t.Skipf("no ../CMakeLists.txt (module used outside the repository): %v", err)
	}
	match := regexp.MustCompile(`project\(\s*ouroboros\s+VERSION\s+([0-9]+\.[0-9]+\.[0-9]+)`).FindSubmatch(text)
	if match == nil {
		t.Fatal("no project(ouroboros VERSION x.y.z) in CMakeLists.txt")
	}
	if Version != string(match[1]) {
		t.Fatalf("Version = %q, CMakeLists.txt says %q", Version, match[1])
	}
}
