package receivables

import (
	"errors"
	"strings"
	"testing"
)

func TestThousands(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0.00", "0.00"}, {"999.99", "999.99"}, {"1000.00", "1,000.00"}, {"-1234567.89", "-1,234,567.89"},
		{"123456", "123,456"}, {"1234567", "1,234,567"}, {"-12.5", "-12.5"},
	}
	for _, tt := range tests {
		if got := thousands(tt.in); got != tt.want {
			t.Errorf("thousands(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWriteReport(t *testing.T) {
	f := BuildFacts(MustDate(t, "2024-03-15"), scenarioA(t), nil)
	fc, err := Forecast(f, 14)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := WriteReport(&b, "client C", Compute(f), &fc); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	t.Log("\n" + out)
	lines := strings.Split(out, "\n")
	if lines[0] != "Receivables of client C as of 2024-03-15" {
		t.Errorf("title = %q", lines[0])
	}
	// Every figure line puts its value in one right-aligned column: the value ends at the same
	// offset on each line (values are found after the label).
	ends := map[string]int{}
	for _, want := range []struct{ label, value string }{
		{"Open receivables", "4,550.00"},
		{"Aging: over 90 days", "500.00"},
		{"Sales in window", "3,900.00"},
		{"DSO", "87.50"},
		{"DSO (countback)", "108.14"},
		{"Collection effectiveness", "43.94"},
		{"Payment index", "79.33"},
		{"Days beyond terms trend", "n/a"},
		{"Max days overdue", "91"},
		{"Relationship", "5"},
		{"Paid late", "100.00"},
		{"Written off", "13.11"},
	} {
		line := findLine(lines, "  "+want.label+" ")
		if line == "" {
			t.Errorf("no line for %q", want.label)
			continue
		}
		rest := line[len("  "+want.label):]
		value := strings.Fields(rest)[0]
		if value != want.value {
			t.Errorf("%s shows %q, want %q", want.label, value, want.value)
		}
		ends[want.label] = strings.Index(line, value) + len(value)
	}
	first := ends["Open receivables"]
	for label, end := range ends {
		if end != first {
			t.Errorf("%s value ends at column %d, Open receivables at %d", label, end, first)
		}
	}
	for _, want := range []string{
		"Overdue", "40.66 % of open receivables", "7 invoices",
		"Expected collections, next 14 days",
		// Scenario A has no paid history: every open invoice on its due date, not before 03-16.
		// 03-16..03-22: I6, I8, I1, I7, I3 (all due on or before D) = 500+600+500+250+300 = 2,150.00
		"  2024-03-16  2024-03-22  2,150.00         5",
		"  2024-03-23  2024-03-29      0.00         0",
		"  after       2024-03-29  2,400.00         2",
		"  total                   4,550.00         7",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestWriteReportEmpty(t *testing.T) {
	var b strings.Builder
	if err := WriteReport(&b, "portfolio", Compute(Facts{AsOf: MustDate(t, "2024-03-15")}), nil); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "Expected collections") {
		t.Error("report shows a forecast it was not given")
	}
	for _, label := range []string{"DSO", "Collection effectiveness", "Payment index", "Relationship", "Disputed"} {
		line := findLine(strings.Split(out, "\n"), "  "+label+" ")
		if fields := strings.Fields(strings.TrimPrefix(line, "  "+label)); len(fields) == 0 || fields[0] != "n/a" {
			t.Errorf("%s line = %q, want n/a", label, line)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteReportError(t *testing.T) {
	err := WriteReport(failingWriter{}, "portfolio", Compute(Facts{AsOf: MustDate(t, "2024-03-15")}), nil)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("WriteReport error = %v, want the writer's", err)
	}
}

// findLine returns the first line starting with prefix, "" if none.
func findLine(lines []string, prefix string) string {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}
