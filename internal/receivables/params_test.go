package receivables

import (
	"testing"

	"github.com/credorisk/credo/internal/fault"
)

func TestParseAsOf(t *testing.T) {
	today := MustDate(t, "2026-11-23")
	tests := []struct {
		in, want string // want "" for an error
	}{
		{"", "2026-11-23"},
		{"  ", "2026-11-23"},
		{"2013-06-30", "2013-06-30"},
		{"2024-02-29", "2024-02-29"},
		{"2023-02-29", ""}, // impossible day
		{"2024-13-01", ""},
		{"30/06/2013", ""},
		{"2013-6-30", ""},
		{"1899-12-31", ""}, // out of range
		{"today", ""},
	}
	for _, tt := range tests {
		got, err := ParseAsOf(tt.in, today)
		if tt.want == "" {
			var fe *fault.Error
			if err == nil || fault.Code(err) != fault.BadRequest || !asFault(err, &fe) || len(fe.Fields) != 1 || fe.Fields[0].Field != "as_of" {
				t.Errorf("ParseAsOf(%q) = %s, %v; want a bad request on as_of", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != MustDate(t, tt.want) {
			t.Errorf("ParseAsOf(%q) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestParseHorizon(t *testing.T) {
	tests := []struct {
		in   string
		want int // 0 for an error
	}{
		{"", 90}, {"1", 1}, {"730", 730}, {" 30 ", 30},
		{"0", 0}, {"731", 0}, {"-5", 0}, {"7.5", 0}, {"ninety", 0}, {"99999999999999999999", 0},
	}
	for _, tt := range tests {
		got, err := ParseHorizon(tt.in)
		if tt.want == 0 {
			var fe *fault.Error
			if err == nil || fault.Code(err) != fault.BadRequest || !asFault(err, &fe) || fe.Fields[0].Field != "horizon_days" {
				t.Errorf("ParseHorizon(%q) = %d, %v; want a bad request on horizon_days", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseHorizon(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}
