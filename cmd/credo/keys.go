package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/credorisk/credo/internal/auth"
	"github.com/credorisk/credo/internal/fault"
)

func (c *cli) keys(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: credo keys create --name N --role R | list | revoke NAME", errUsage)
	}
	a, err := c.open(false)
	if err != nil {
		return err
	}
	defer a.close()
	switch args[0] {
	case "create":
		fs := c.flags("keys create")
		name := fs.String("name", "", "the key's name (required)")
		role := fs.String("role", "", "admin, ingest, sales, finance or credit_manager (required)")
		replace := fs.Bool("replace", false, "revoke an active key of the same name first")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if *name == "" || *role == "" {
			return fmt.Errorf("%w: --name and --role are required", errUsage)
		}
		r, err := auth.ParseRole(*role)
		if err != nil {
			return fmt.Errorf("%s", describe(err))
		}
		if *replace {
			if err := a.keys.Revoke(c.ctx, *name, "cli"); err != nil && fault.Code(err) != fault.NotFound {
				return err
			}
		}
		secret, _, err := a.keys.Create(c.ctx, *name, r, "cli")
		if err != nil {
			return fmt.Errorf("%s", describe(err))
		}
		fmt.Fprintln(c.stdout, secret)
		return nil
	case "list":
		keys, err := a.keys.List(c.ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tPREFIX\tCREATED\tSTATUS")
		for _, k := range keys {
			status := "active"
			if k.RevokedAt != nil {
				status = "revoked " + k.RevokedAt.UTC().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s…\t%s\t%s\n", k.Name, k.Role, k.Prefix, k.CreatedAt.UTC().Format("2006-01-02 15:04"), status)
		}
		return tw.Flush()
	case "revoke":
		if len(args) != 2 {
			return fmt.Errorf("%w: credo keys revoke NAME", errUsage)
		}
		if err := a.keys.Revoke(c.ctx, args[1], "cli"); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "key %q revoked\n", args[1])
		return nil
	}
	return fmt.Errorf("%w: unknown keys command %q", errUsage, args[0])
}
