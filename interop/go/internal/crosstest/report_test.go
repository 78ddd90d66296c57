package crosstest

import (
	"reflect"
	"strings"
	"testing"
)

func TestExitCodeIsUpstreamsBitmask(t *testing.T) {
	r := newReport()
	r.record("testVoid", nil)
	if got := r.ExitCode(); got != 0 {
		t.Fatalf("all passed: exit %d, want 0", got)
	}
	r.record("testMap", &Failure{Group: Containers})
	r.record("testException", &Failure{Group: Exceptions, TimedOut: true})
	if got, want := r.ExitCode(), 4|8|ExitTimeout; got != want {
		t.Fatalf("exit %d, want %d", got, want)
	}
	r = newReport()
	r.Aborted = []string{"loop 1: refused"}
	if got := r.ExitCode(); got != 79 {
		t.Fatalf("aborted: exit %d, want 79 (64 and every group)", got)
	}
}

func TestLines(t *testing.T) {
	r := newReport()
	r.record("testString", nil)
	r.record("testString", &Failure{Group: BaseTypes, Check: `testString("")`, Message: "expected \"\", got \"x\""})
	r.record("secondtestString", nil)
	want := []string{
		"secondtestString: 1 checks, 0 failed: ok",
		"testString: 2 checks, 1 failed: FAILED",
	}
	if got := r.MethodLines(); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got, want := r.Failures[0].String(), `FAILED [basetypes] testString(""): expected "", got "x"`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got, want := (LoopSummary{2, 81, 1, 3}).String(), "loop 2: 81 checks, 1 failed, 3 reconnects"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestShortenKeepsWholeCharacters(t *testing.T) {
	s := shorten(strings.Repeat("日", 100)) // 300 bytes
	if !strings.HasSuffix(s, "... (300 bytes)") || !strings.HasPrefix(s, strings.Repeat("日", 53)+"...") {
		t.Fatalf("got %q", s)
	}
}

func TestSameSetIgnoresOrderAndNil(t *testing.T) {
	if !sameSet([]int32{2, -1, 0}, []int32{-1, 0, 2}) || !sameSet(nil, []int32{}) || sameSet([]int32{1}, []int32{2}) {
		t.Fatal("sameSet")
	}
}
