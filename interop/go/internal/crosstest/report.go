package crosstest

import (
	"fmt"
	"sort"
)

// Group is a group of checks; each has its bit in the exit code.
type Group int

// The groups, in bit order (upstream's TEST_BASETYPES ... TEST_EXCEPTIONS).
const (
	BaseTypes Group = iota
	Structs
	Containers
	Exceptions
)

// Exit-code bits beyond the groups' (upstream's TEST_UNKNOWN, TEST_TIMEOUT).
const (
	ExitUnknown = 64  // a loop could not run at all (no connection)
	ExitTimeout = 128 // a failed call timed out
)

var groupNames = [...]string{"basetypes", "structs", "containers", "exceptions"}

// Bit is the group's bit in the exit code: 1, 2, 4 or 8.
func (g Group) Bit() int { return 1 << g }

func (g Group) String() string { return groupNames[g] }

// Failure is one failed check.
type Failure struct {
	Group    Group
	Check    string // the call, as sent (shortened)
	Message  string // the wrong reply or the error
	TimedOut bool   // the call failed by timing out
}

func (f Failure) String() string {
	return fmt.Sprintf("FAILED [%s] %s: %s", f.Group, f.Check, f.Message)
}

// Tally is the checks made and failed for one method.
type Tally struct{ Checks, Failed int }

// Report is everything the suite found.
type Report struct {
	Failures   []Failure
	Methods    map[string]*Tally
	Aborted    []string // why loops could not run; all groups count as failed
	Unknown    []string // UNKNOWN lines: testOneway sends that broke, not failures
	Reconnects int      // connections rebuilt after a transport error, all loops
}

func newReport() *Report { return &Report{Methods: map[string]*Tally{}} }

func (r *Report) record(method string, f *Failure) {
	t := r.Methods[method]
	if t == nil {
		t = &Tally{}
		r.Methods[method] = t
	}
	t.Checks++
	if f != nil {
		t.Failed++
		r.Failures = append(r.Failures, *f)
	}
}

// Totals is the checks made and failed so far, over every method.
func (r *Report) Totals() (checks, failed int) {
	for _, t := range r.Methods {
		checks += t.Checks
		failed += t.Failed
	}
	return checks, failed
}

// ExitCode is upstream's bitmask: the bit of every group with a failed
// check, ExitTimeout when a failed call timed out, and ExitUnknown with
// every group bit when a loop could not run. 0 when everything passed.
func (r *Report) ExitCode() int {
	code := 0
	for _, f := range r.Failures {
		code |= f.Group.Bit()
		if f.TimedOut {
			code |= ExitTimeout
		}
	}
	if len(r.Aborted) > 0 {
		code |= ExitUnknown
		for g := BaseTypes; g <= Exceptions; g++ {
			code |= g.Bit()
		}
	}
	return code
}

// MethodLines are the final lines, one per method called, sorted by name:
// "<method>: <n> checks, <m> failed: ok|FAILED".
func (r *Report) MethodLines() []string {
	names := make([]string, 0, len(r.Methods))
	for m := range r.Methods {
		names = append(names, m)
	}
	sort.Strings(names)
	lines := make([]string, len(names))
	for i, m := range names {
		t, verdict := r.Methods[m], "ok"
		if t.Failed > 0 {
			verdict = "FAILED"
		}
		lines[i] = fmt.Sprintf("%s: %d checks, %d failed: %s", m, t.Checks, t.Failed, verdict)
	}
	return lines
}

// LoopSummary is what one loop did, as its "loop <n>: ..." line says it.
type LoopSummary struct {
	Number, Checks, Failed int
	Reconnects             int // since the start, not in this loop only
}

func (s LoopSummary) String() string {
	return fmt.Sprintf("loop %d: %d checks, %d failed, %d reconnects", s.Number, s.Checks, s.Failed, s.Reconnects)
}
