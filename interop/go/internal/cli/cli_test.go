package cli

import (
	"reflect"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"
)

func TestParseSizes(t *testing.T) {
	got, err := ParseSizes("0,1,128K,1M,2k")
	if want := []int{0, 1, 128 << 10, 1 << 20, 2 << 10}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"", "x", "-1", "1G", "1,,2", "4096M"} {
		if _, err := ParseSizes(bad); err == nil {
			t.Errorf("ParseSizes(%q) succeeded", bad)
		}
	}
}

// THeader carries binary or compact, whose id the configuration holds.
func TestHeaderWire(t *testing.T) {
	for protocol, want := range map[string]thrift.THeaderProtocolID{
		"binary": thrift.THeaderProtocolBinary, "compact": thrift.THeaderProtocolCompact,
		"multi": thrift.THeaderProtocolBinary, "multic": thrift.THeaderProtocolCompact,
	} {
		w := Wire{Protocol: NewChoice(protocol), Transport: NewChoice("header"), Multiplexed: new(bool)}
		if err := w.Check(); err != nil {
			t.Errorf("%s: %v", protocol, err)
		}
		w.ResolveCrossTest()
		if got := w.Config(0, 0).GetTHeaderProtocolID(); got != want {
			t.Errorf("%s: protocol id %d, want %d", protocol, got, want)
		}
	}
	for _, protocol := range []string{"json", "multij"} {
		w := Wire{Protocol: NewChoice(protocol), Transport: NewChoice("header")}
		if w.Check() == nil {
			t.Errorf("header with %s accepted", protocol)
		}
	}
}
