package receivables

import (
	"encoding/csv"
	"os"
	"testing"

	"github.com/credorisk/credo/internal/ledger"
)

// ibmCSV is IBM's public "late payment histories" sample (see ../shared/data/README.md).
const ibmCSV = "../../../shared/data/receivables/ibm_late_payment_histories.csv"

// MustLoadIBM reads the IBM export as raw ledger rows: every invoice is settled by one payment of
// its full amount on SettledDate.
func MustLoadIBM(t testing.TB) []Invoice {
	t.Helper()
	file, err := os.Open(ibmCSV)
	if err != nil {
		t.Fatalf("open IBM sample: %v", err)
	}
	defer file.Close()
	rows, err := csv.NewReader(file).ReadAll()
	if err != nil {
		t.Fatalf("read IBM sample: %v", err)
	}
	col := make(map[string]int)
	for i, name := range rows[0] {
		col[name] = i
	}
	date := func(line int, row []string, name string) ledger.Date {
		d, err := ledger.ParseDateLayout(row[col[name]], "1/2/2006")
		if err != nil {
			t.Fatalf("line %d: %s %q: %v", line, name, row[col[name]], err)
		}
		return d
	}
	var invoices []Invoice
	for i, row := range rows[1:] {
		line := i + 2
		amount, err := ledger.ParseMoney(row[col["InvoiceAmount"]], '.')
		if err != nil {
			t.Fatalf("line %d: InvoiceAmount: %v", line, err)
		}
		invoices = append(invoices, Invoice{
			ClientID:  row[col["customerID"]],
			InvoiceID: row[col["invoiceNumber"]],
			Kind:      KindInvoice,
			IssueDate: date(line, row, "InvoiceDate"),
			DueDate:   date(line, row, "DueDate"),
			Amount:    amount,
			Disputed:  row[col["Disputed"]] == "Yes",
			Movements: []Movement{{Date: date(line, row, "SettledDate"), Amount: amount, Kind: KindPayment}},
		})
	}
	if len(invoices) != 2466 {
		t.Fatalf("IBM sample: %d invoices, want 2466", len(invoices))
	}
	return invoices
}

func TestIBMPortfolio(t *testing.T) {
	invoices := MustLoadIBM(t)
	m := Compute(BuildFacts(MustDate(t, "2013-06-30"), invoices, nil))
	// Figures verified independently of this package (issue 3): "open at D" is issued on or
	// before D and settled after D.
	MustEqualMoney(t, "open_ar", m.OpenAR, "5119.85")
	MustEqualMoney(t, "not_due", m.NotDue, "4284.29")
	MustEqualMoney(t, "sales_3m", m.Sales3m, "20098.87")
	if m.WindowDays != 91 {
		t.Errorf("window_days = %d, want 91", m.WindowDays)
	}
	MustEqualFloat(t, "dso", m.DSO, 23.18)
	MustEqualFloat(t, "best_possible_dso", m.BestPossibleDSO, 19.40)
	MustEqualFloat(t, "add", m.ADD, 3.78)
}
