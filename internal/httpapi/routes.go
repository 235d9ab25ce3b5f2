package httpapi

import (
	"github.com/labstack/echo/v4"

	"github.com/credorisk/credo/internal/auth"
)

func (s *Server) routes() {
	e := s.echo
	e.GET("/livez", s.livez)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metricsHandler())
	e.GET("/openapi.yaml", s.openapi)

	api := e.Group("/v1", s.limits(s.Config.BodyLimit, s.Config.RequestTimeout))
	r := func(p auth.Permission) echo.MiddlewareFunc { return s.require(p) }

	api.PUT("/clients/:client_id", s.putClient, r(auth.LedgerWrite))
	api.GET("/clients/:client_id", s.getClient, r(auth.ClientsRead))
	api.GET("/clients", s.listClients, r(auth.ClientsRead))
	api.GET("/clients/:client_id/invoices", s.listClientInvoices, r(auth.LedgerRead))
	api.PUT("/invoices/:invoice_id", s.putInvoice, r(auth.LedgerWrite))
	api.GET("/invoices/:invoice_id", s.getInvoice, r(auth.LedgerRead))
	api.POST("/invoices/:invoice_id/write-off", s.writeOff, r(auth.LedgerWrite))
	api.PUT("/payments/:payment_id", s.putPayment, r(auth.LedgerWrite))
	api.GET("/payments/:payment_id", s.getPayment, r(auth.LedgerRead))

	imports := e.Group("/v1/imports", s.limits(s.Config.ImportBodyLimit, s.Config.ImportTimeout))
	imports.POST("/:kind", s.importFile, r(auth.LedgerWrite))

	api.GET("/keys", s.listKeys, r(auth.KeysManage))
	api.POST("/keys", s.createKey, r(auth.KeysManage))
	api.DELETE("/keys/:name", s.revokeKey, r(auth.KeysManage))

	s.sanctionsRoutes(api)
	s.metricsRoutes(api)
	s.scoresRoutes(api)
	s.decisionRoutes(api)
	s.policyRoutes(api)
	s.solvencyRoutes(api)
	s.consoleRoutes()
}
