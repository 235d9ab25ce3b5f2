package receivables

import (
	"encoding/json"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// schemaDoc is the part of openapi_schemas.yaml this test reads.
type schemaDoc struct {
	Components struct {
		Schemas map[string]struct {
			Required   []string                  `yaml:"required"`
			Properties map[string]map[string]any `yaml:"properties"`
		} `yaml:"schemas"`
	} `yaml:"components"`
}

// MustJSONKeys marshals v and returns its object's keys, sorted.
func MustJSONKeys(t *testing.T, v any) []string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		t.Fatal(err)
	}
	return slices.Sorted(maps.Keys(obj))
}

// TestSchemasMatchJSON keeps the OpenAPI schemas and the Go types in step: same fields, all
// required, each described, and nullable exactly where Go has a pointer.
func TestSchemasMatchJSON(t *testing.T) {
	raw, err := os.ReadFile("openapi_schemas.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc schemaDoc
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	fc, err := Forecast(Facts{AsOf: MustDate(t, "2024-03-15")}, 7)
	if err != nil {
		t.Fatal(err)
	}
	metrics := Compute(Facts{AsOf: MustDate(t, "2024-03-15")}) // every pointer null
	types := map[string]any{
		"ReceivablesMetrics":  metrics,
		"ReceivablesAging":    metrics.Aging,
		"ReceivablesForecast": fc,
		"ForecastAmount":      fc.Total,
		"ForecastBucket":      fc.Buckets[0],
	}
	nulls := map[string]bool{}
	b, _ := json.Marshal(metrics)
	var obj map[string]json.RawMessage
	_ = json.Unmarshal(b, &obj)
	for k, v := range obj {
		nulls[k] = string(v) == "null"
	}
	for name, v := range types {
		s, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("schema %s missing", name)
			continue
		}
		want := MustJSONKeys(t, v)
		if got := slices.Sorted(maps.Keys(s.Properties)); !slices.Equal(got, want) {
			t.Errorf("%s properties = %v, JSON fields = %v", name, got, want)
		}
		if got := slices.Sorted(slices.Values(s.Required)); !slices.Equal(got, want) {
			t.Errorf("%s required = %v, want %v", name, got, want)
		}
		for prop, spec := range s.Properties {
			if _, ref := spec["$ref"]; !ref && strings.TrimSpace(toString(spec["description"])) == "" {
				t.Errorf("%s.%s has no description", name, prop)
			}
			if name == "ReceivablesMetrics" && (spec["nullable"] == true) != nulls[prop] {
				t.Errorf("%s.%s nullable = %v, Go null = %v", name, prop, spec["nullable"], nulls[prop])
			}
		}
	}
}

func toString(v any) string {
	s, _ := v.(string)
	return s
}

// TestMetricsJSON checks the wire form: issue's names, aging as an object, amounts with two
// decimals, rounded figures, nulls.
func TestMetricsJSON(t *testing.T) {
	m := Compute(BuildFacts(MustDate(t, "2024-03-15"), scenarioA(t), nil))
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"as_of":"2024-03-15"`, `"open_ar":4550.00`, `"overdue_rate":0.4066`,
		`"aging":{"current":2700.00,"d1_30":250.00,"d31_60":500.00,"d61_90":600.00,"d90_plus":500.00}`,
		`"window_days":75`, `"sales_3m":3900.00`, `"dso":87.5,`, `"best_possible_dso":51.92`, `"add":35.58`,
		`"dbt_trend":null`, `"relationship_months":5`, `"max_days_overdue":91`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
}
