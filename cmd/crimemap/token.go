package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crimemap/crimemap/server"
	"github.com/crimemap/crimemap/store"
)

const tokenUsage = `usage:
  crimemap token create --role viewer|analyst|admin [--unit CODE] [--name NAME] [--expires 2160h] [store flags]
  crimemap token list   [store flags]
  crimemap token revoke [store flags] ID
`

// cmdToken manages API bearer tokens: create (prints the token once),
// list, revoke.
func cmdToken(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(env.stderr, tokenUsage)
		return errUsage
	}
	switch args[0] {
	case "create":
		return cmdTokenCreate(ctx, env, args[1:])
	case "list":
		return cmdTokenList(ctx, env, args[1:])
	case "revoke":
		return cmdTokenRevoke(ctx, env, args[1:])
	case "help", "-h", "--help":
		fmt.Fprint(env.stdout, tokenUsage)
		return nil
	}
	fmt.Fprintf(env.stderr, "crimemap token: unknown command %q\n%s", args[0], tokenUsage)
	return errUsage
}

// usageError explains a bad command line on stderr (main prints nothing
// for errUsage).
func usageError(env *environment, format string, a ...any) error {
	fmt.Fprintf(env.stderr, "crimemap: "+format+"\n", a...)
	return errUsage
}

// openTokens opens the store and its token store.
func openTokens(ctx context.Context, env *environment, sf *storeFlags) (store.Store, store.TokenStore, error) {
	st, err := sf.open(ctx, env.logger())
	if err != nil {
		return nil, nil, err
	}
	ts, ok := st.(store.TokenStore)
	if !ok {
		st.Close()
		return nil, nil, fmt.Errorf("the %s store does not keep API tokens", st.Backend())
	}
	return st, ts, nil
}

func cmdTokenCreate(ctx context.Context, env *environment, args []string) error {
	fs := env.newFlags("token create", "token create --role viewer|analyst|admin [--unit CODE] [--name NAME] [--expires 2160h] [store flags]")
	sf := env.addStoreFlags(fs)
	roleName := fs.String("role", "", "viewer (public data only), analyst (also raw events) or admin; required")
	unit := fs.String("unit", "", "limit the token to the territory of this region, district or mahalla code: its role applies there, the public view elsewhere (not for admin)")
	name := fs.String("name", "", "whom or what the token is for, shown by 'token list'")
	expires := fs.Duration("expires", 90*24*time.Hour, "lifetime, e.g. 720h for 30 days; 0 for a token that never expires")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(env, "token create: unexpected argument %q", fs.Arg(0))
	}
	if *roleName == "" {
		return usageError(env, "token create: --role is required (viewer, analyst or admin)")
	}
	role, err := server.ParseRole(*roleName)
	if err != nil {
		return usageError(env, "token create: --role: %v", err)
	}
	if *expires < 0 {
		return usageError(env, "token create: --expires %v: want a positive lifetime, or 0 for never", *expires)
	}
	*unit = strings.TrimSpace(*unit)
	if role == server.RoleAdmin && *unit != "" {
		return usageError(env, "token create: --unit %s: %v (admin writes colour the whole map); create an analyst or viewer token for the territory", *unit, server.ErrAdminScoped)
	}
	st, ts, err := openTokens(ctx, env, sf)
	if err != nil {
		return err
	}
	defer st.Close()
	if *unit != "" {
		if _, err := st.Unit(ctx, *unit); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("token create: --unit %q: no such unit in %s; give the code of a region, district or mahalla loaded with `crimemap boundaries import` (or `crimemap demo`)", *unit, sf.describe())
		} else if err != nil {
			return fmt.Errorf("token create: --unit %q: %w", *unit, err)
		}
	}

	var (
		tok string
		rec store.Token
	)
	for attempt := 0; ; attempt++ {
		tok, rec, err = server.NewScopedToken(role, *name, *unit, time.Now(), *expires)
		if err != nil {
			return err
		}
		err = ts.PutToken(ctx, rec)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrConflict) || attempt == 2 { // an ID taken: draw another
			return fmt.Errorf("store token: %w", err)
		}
	}
	exp := "never expires"
	if rec.ExpiresAt != nil {
		exp = "expires " + rec.ExpiresAt.Format("2006-01-02 15:04 MST")
	}
	label := ""
	if rec.Name != "" {
		label = fmt.Sprintf(" (%q)", rec.Name)
	}
	// The token alone on stdout, so TOKEN=$(crimemap token create ...)
	// works; everything else on stderr.
	scope := ""
	if rec.Unit != "" {
		scope = " limited to unit " + rec.Unit
	}
	fmt.Fprintf(env.stderr, "created %s token %s%s%s in %s; it %s\n", rec.Role, rec.ID, label, scope, sf.describe(), exp)
	fmt.Fprintln(env.stdout, tok)
	fmt.Fprintf(env.stderr, "WARNING: this is the only time the token is shown, and it cannot be shown again:\n"+
		"only its SHA-256 hash is stored. Copy it now to a safe place; if it is lost, revoke it\n"+
		"(crimemap token revoke %s) and create another. Send it as: Authorization: Bearer <token>\n", rec.ID)
	return nil
}

func cmdTokenList(ctx context.Context, env *environment, args []string) error {
	fs := env.newFlags("token list", "token list [store flags]")
	sf := env.addStoreFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(env, "token list: unexpected argument %q", fs.Arg(0))
	}
	st, ts, err := openTokens(ctx, env, sf)
	if err != nil {
		return err
	}
	defer st.Close()
	toks, err := ts.Tokens(ctx)
	if err != nil {
		return err
	}
	if len(toks) == 0 {
		fmt.Fprintf(env.stderr, "no tokens in %s; create one with: crimemap token create --role analyst --name NAME\n", sf.describe())
		return nil
	}
	const day = "2006-01-02 15:04"
	now := time.Now()
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROLE\tUNIT\tSTATUS\tCREATED (UTC)\tEXPIRES (UTC)\tNAME")
	for _, t := range toks {
		status := "active"
		switch {
		case t.RevokedAt != nil:
			status = "revoked " + t.RevokedAt.Format("2006-01-02")
		case !t.Active(now):
			status = "expired"
		}
		exp := "never"
		if t.ExpiresAt != nil {
			exp = t.ExpiresAt.Format(day)
		}
		unit := t.Unit
		if unit == "" {
			unit = "everywhere"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, unit, status, t.CreatedAt.Format(day), exp, t.Name)
	}
	return tw.Flush()
}

func cmdTokenRevoke(ctx context.Context, env *environment, args []string) error {
	fs := env.newFlags("token revoke", "token revoke [store flags] ID")
	sf := env.addStoreFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	// The ID may come before or after the flags.
	var id string
	if fs.NArg() > 0 {
		id = fs.Arg(0)
		if err := parse(fs, fs.Args()[1:]); err != nil {
			return err
		}
	}
	switch {
	case id == "":
		return usageError(env, "token revoke: which token? give its ID (see crimemap token list)")
	case fs.NArg() > 0:
		return usageError(env, "token revoke: one ID at a time (got %q and %q)", id, fs.Arg(0))
	}
	st, ts, err := openTokens(ctx, env, sf)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := ts.RevokeToken(ctx, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("token %q: not found in %s (see crimemap token list)", id, sf.describe())
		}
		return err
	}
	fmt.Fprintf(env.stdout, "token %s revoked: requests sending it now get 401\n", id)
	return nil
}
