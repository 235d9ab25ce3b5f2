// Package demo generates a deterministic, realistic receivables portfolio for demos, tests and
// benchmarks: prompt and slow payers, a client whose delays grow, disputes, partial payments,
// credit notes, a few written-off debts, and clients with no history yet.
package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/credorisk/credo/internal/ledger"
)

// Options shape a portfolio.
type Options struct {
	Clients int         // number of clients (default 500)
	Seed    uint64      // the same seed and end date give the same portfolio
	End     ledger.Date // the last day of history (default today)
	Months  int         // months of history (default 24)
	// InvoicesPerMonth scales invoice volume: the mean invoices per client and month (default 3).
	InvoicesPerMonth float64
	// Invoices, when set, makes the portfolio hold exactly this many invoice rows (credit notes
	// included): the volume is calibrated to it and the excess trimmed from the end.
	Invoices int
}

// Profile is a client's payment behaviour.
type Profile string

// The behaviours a credit team meets.
const (
	Prompt        Profile = "prompt"        // pays on time, often early
	Slow          Profile = "slow"          // pays two to six weeks late
	Deteriorating Profile = "deteriorating" // on time a year ago, later and later since
	Disputer      Profile = "disputer"      // disputes often; disputed invoices are credited or paid late
	Partial       Profile = "partial"       // pays in instalments
	Defaulter     Profile = "defaulter"     // stopped paying; old debts written off
	NewClient     Profile = "new"           // no history yet
)

// Invoice is a generated invoice or credit note, with the date it was settled in full (paid_date
// on an import) when it was.
type Invoice struct {
	ledger.Invoice
	PaidDate *ledger.Date
}

// WriteOff is a generated bad debt.
type WriteOff struct {
	InvoiceID string
	ledger.WriteOff
}

// Portfolio is the generated data, in the order it should land.
type Portfolio struct {
	Clients   []ledger.Client
	Profiles  map[string]Profile
	Invoices  []Invoice
	Payments  []ledger.Payment // instalments of partial payers, each allocated to one invoice
	WriteOffs []WriteOff
}

var (
	nameStems = []string{"Dupont", "Martin", "Bernard", "Lefèvre", "Moreau", "Laurent", "Girard", "Roux", "Fournier", "Mercier",
		"Blanc", "Guérin", "Muller", "Henry", "Rousseau", "Nicolas", "Perrin", "Morin", "Mathieu", "Clément", "Gauthier", "Dumont",
		"Lopez", "Fontaine", "Chevalier", "Robin", "Masson", "Sanchez", "Boyer", "Denis", "Lemaire", "Duval", "Joly", "Roger"}
	nameTrades = []string{"Industrie", "Logistique", "Bâtiment", "Distribution", "Électronique", "Agro", "Transports", "Métallurgie",
		"Services", "Emballages", "Plasturgie", "Négoce", "Ingénierie", "Textile", "Mécanique", "Énergie", "Pharma", "Matériaux"}
	legalForms = []string{"SAS", "SARL", "SA", "SASU", "SNC"}
	sectors    = []string{"construction", "retail", "manufacturing", "transport", "wholesale", "food", "energy", "healthcare", "services"}
	firstNames = []string{"Jean", "Marie", "Pierre", "Sophie", "Luc", "Claire", "Nicolas", "Isabelle", "Thomas", "Camille", "Julien", "Émilie"}
	foreign    = []struct{ country, form, vatPrefix string }{{"DE", "GmbH", "DE"}, {"BE", "SRL", "BE"}, {"ES", "SL", "ES"}, {"IT", "SRL", "IT"}}
)

// Generate builds a portfolio.
func Generate(o Options) Portfolio {
	if o.Invoices <= 0 {
		return generate(o)
	}
	if o.InvoicesPerMonth <= 0 {
		o.InvoicesPerMonth = 3
	}
	p := generate(o)
	for i := 0; i < 4 && len(p.Invoices) < o.Invoices; i++ {
		o.InvoicesPerMonth *= float64(o.Invoices) / float64(max(1, len(p.Invoices))) * 1.02
		p = generate(o)
	}
	if len(p.Invoices) > o.Invoices {
		p.trim(o.Invoices)
	}
	return p
}

// trim keeps the first n invoice rows and drops what refers to the others.
func (p *Portfolio) trim(n int) {
	kept := make(map[string]bool, n)
	p.Invoices = p.Invoices[:n]
	for _, inv := range p.Invoices {
		kept[inv.InvoiceID] = true
	}
	// A credit note whose invoice was dropped goes too (it is always listed after its invoice).
	out := p.Invoices[:0]
	for _, inv := range p.Invoices {
		if inv.AppliesTo == "" || kept[inv.AppliesTo] {
			out = append(out, inv)
		}
	}
	p.Invoices = out
	var pays []ledger.Payment
	for _, x := range p.Payments {
		if kept[x.Allocations[0].InvoiceID] {
			pays = append(pays, x)
		}
	}
	p.Payments = pays
	var wos []WriteOff
	for _, w := range p.WriteOffs {
		if kept[w.InvoiceID] {
			wos = append(wos, w)
		}
	}
	p.WriteOffs = wos
}

func generate(o Options) Portfolio {
	if o.Clients <= 0 {
		o.Clients = 500
	}
	if o.End == 0 {
		o.End = ledger.Today()
	}
	if o.Months <= 0 {
		o.Months = 24
	}
	if o.InvoicesPerMonth <= 0 {
		o.InvoicesPerMonth = 3
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x63726564))
	p := Portfolio{Profiles: map[string]Profile{}}
	start := o.End.AddMonths(-o.Months).AddDays(1)
	for i := 0; i < o.Clients; i++ {
		c, prof := genClient(rng, i)
		p.Clients = append(p.Clients, c)
		p.Profiles[c.ClientID] = prof
		if prof == NewClient {
			continue
		}
		genHistory(rng, &p, c.ClientID, prof, start, o)
	}
	return p
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func genClient(rng *rand.Rand, i int) (ledger.Client, Profile) {
	id := fmt.Sprintf("C%05d", i+1)
	r := rng.Float64()
	prof := Prompt
	switch {
	case r < 0.40:
		prof = Prompt
	case r < 0.62:
		prof = Slow
	case r < 0.68:
		prof = Deteriorating
	case r < 0.76:
		prof = Disputer
	case r < 0.88:
		prof = Partial
	case r < 0.92:
		prof = Defaulter
	default:
		prof = NewClient
	}
	c := ledger.Client{ClientID: id, Country: "FR", Sector: pick(rng, sectors)}
	name := pick(rng, nameStems) + " " + pick(rng, nameTrades)
	if rng.Float64() < 0.15 {
		f := pick(rng, foreign)
		c.Country, c.Name = f.country, name+" "+f.form
		c.RegistrationID = foreignVAT(rng, f.vatPrefix)
	} else {
		c.Name = name + " " + pick(rng, legalForms)
		c.RegistrationID = siren(rng)
	}
	c.Directors = []string{pick(rng, firstNames) + " " + pick(rng, nameStems)}
	if rng.Float64() < 0.3 {
		c.Directors = append(c.Directors, pick(rng, firstNames)+" "+pick(rng, nameStems))
	}
	return c, prof
}

// siren draws a 9-digit number with a valid Luhn check digit.
func siren(rng *rand.Rand) string {
	base := fmt.Sprintf("%08d", 30000000+rng.IntN(60000000))
	for d := 0; d < 10; d++ {
		s := base + strconv.Itoa(d)
		if ledger.RegistrationKind(s) == "siren" {
			return s
		}
	}
	panic("unreachable: one of ten check digits satisfies Luhn")
}

func foreignVAT(rng *rand.Rand, prefix string) string {
	switch prefix {
	case "DE":
		return fmt.Sprintf("DE%09d", 100000000+rng.IntN(899999999))
	case "BE":
		return fmt.Sprintf("BE0%09d", 200000000+rng.IntN(700000000))
	case "ES":
		return fmt.Sprintf("ESB%08d", rng.IntN(99999999))
	default:
		return fmt.Sprintf("IT%011d", 10000000000+rng.Int64N(89999999999))
	}
}

// genHistory draws a client's invoices over the period and how each was paid.
func genHistory(rng *rand.Rand, p *Portfolio, clientID string, prof Profile, start ledger.Date, o Options) {
	// Invoice size: log-normal around a client-specific mean between ~300 and ~30,000.
	mean := math.Exp(6 + rng.Float64()*4.5)
	perMonth := o.InvoicesPerMonth * (0.3 + rng.Float64()*1.4)
	terms := pick(rng, []int{30, 30, 30, 45, 60})
	first := start.AddDays(rng.IntN(max(1, int(o.End-start)/3)))
	if prof == Deteriorating || prof == Defaulter {
		first = start
	}
	stopPaying := o.End.AddDays(-120 - rng.IntN(120)) // defaulters
	n := 0
	for d := first; d <= o.End; {
		gap := int(math.Max(1, rng.ExpFloat64()*30/perMonth))
		d = d.AddDays(gap)
		if d > o.End {
			break
		}
		n++
		amount := ledger.Money(math.Round(mean*math.Exp(rng.NormFloat64()*0.5)*100)) + 100
		inv := Invoice{Invoice: ledger.Invoice{
			InvoiceID: fmt.Sprintf("%s-%05d", clientID, n), ClientID: clientID, Number: fmt.Sprintf("F%s%05d", clientID[1:], n),
			Kind: ledger.KindInvoice, IssueDate: d, DueDate: d.AddDays(terms), Amount: amount, Currency: "EUR",
		}}
		delay := paymentDelay(rng, prof, d, o.End)
		if prof == Disputer && rng.Float64() < 0.25 || rng.Float64() < 0.02 {
			inv.Disputed = true
			delay += 20 + rng.IntN(40)
		}
		paid := inv.DueDate.AddDays(delay)
		if paid < inv.IssueDate {
			paid = inv.IssueDate.AddDays(1)
		}
		switch {
		case prof == Defaulter && d > stopPaying.AddDays(-terms-30):
			// Never paid; the oldest of these are written off below.
			if o.End-inv.DueDate > 150 && rng.Float64() < 0.7 {
				p.WriteOffs = append(p.WriteOffs, WriteOff{InvoiceID: inv.InvoiceID, WriteOff: ledger.WriteOff{
					Date: inv.DueDate.AddDays(150), Reason: "customer insolvent: claim declared to the liquidator, no recovery expected"}})
			}
		case inv.Disputed && rng.Float64() < 0.5:
			// Settled by a credit note for part of it, the rest paid.
			credit := ledger.Money(float64(inv.Amount) * (0.1 + rng.Float64()*0.4))
			cdate := min(inv.IssueDate.AddDays(10+rng.IntN(30)), o.End)
			p.Invoices = append(p.Invoices, inv)
			p.Invoices = append(p.Invoices, Invoice{Invoice: ledger.Invoice{
				InvoiceID: inv.InvoiceID + "-CN", ClientID: clientID, Number: "A" + inv.Number[1:], Kind: ledger.KindCreditNote,
				IssueDate: cdate, DueDate: cdate, Amount: credit, Currency: "EUR", AppliesTo: inv.InvoiceID}})
			if paid <= o.End {
				p.Payments = append(p.Payments, ledger.Payment{PaymentID: "P-" + inv.InvoiceID, ClientID: clientID, Date: max(paid, cdate),
					Amount: inv.Amount - credit, Currency: "EUR", Allocations: []ledger.Allocation{{InvoiceID: inv.InvoiceID, Amount: inv.Amount - credit}}})
			}
			continue
		case prof == Partial && paid <= o.End:
			// Half at the due date or so, the rest later; the second may still be to come.
			first := inv.Amount / 2
			d1 := max(inv.DueDate.AddDays(rng.IntN(10)-3), inv.IssueDate.AddDays(1))
			p.Payments = append(p.Payments, ledger.Payment{PaymentID: "P-" + inv.InvoiceID + "-1", ClientID: clientID, Date: min(d1, o.End),
				Amount: first, Currency: "EUR", Allocations: []ledger.Allocation{{InvoiceID: inv.InvoiceID, Amount: first}}})
			if d2 := paid.AddDays(15 + rng.IntN(30)); d2 <= o.End {
				p.Payments = append(p.Payments, ledger.Payment{PaymentID: "P-" + inv.InvoiceID + "-2", ClientID: clientID, Date: d2,
					Amount: inv.Amount - first, Currency: "EUR", Allocations: []ledger.Allocation{{InvoiceID: inv.InvoiceID, Amount: inv.Amount - first}}})
			}
		case paid <= o.End:
			inv.PaidDate = &paid
		}
		p.Invoices = append(p.Invoices, inv)
	}
}

// paymentDelay is the signed number of days after the due date that an invoice issued on d gets
// paid, by profile.
func paymentDelay(rng *rand.Rand, prof Profile, d, end ledger.Date) int {
	switch prof {
	case Prompt:
		return rng.IntN(12) - 8
	case Slow:
		return 12 + rng.IntN(35)
	case Deteriorating:
		// On time until a year ago, then later and later: up to ~90 days for the newest invoices.
		age := int(end - d)
		if age > 365 {
			return rng.IntN(8) - 4
		}
		return (365-age)/4 + rng.IntN(10)
	case Partial:
		return rng.IntN(20)
	case Disputer:
		return rng.IntN(15)
	case Defaulter:
		return 20 + rng.IntN(30)
	}
	return 0
}
