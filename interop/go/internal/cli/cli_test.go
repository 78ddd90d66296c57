package cli

import (
	"reflect"
	"testing"
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
