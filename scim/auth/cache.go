package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// fetchFunc gets a new token. Its context carries no deadline of the caller's: fetches are
// shared by every caller waiting for a token.
type fetchFunc func(ctx context.Context) (*oauth2.Token, error)

// cachedToken caches the token of a fetchFunc until early before its expiry, and shares one
// fetch among concurrent callers. Token returns when the caller's ctx is done, even while
// the fetch goes on for the others.
type cachedToken struct {
	fetch fetchFunc
	what  string        // what the token is for, in errors: "Entra ID token"
	early time.Duration // refresh this long before the expiry
	now   func() time.Time

	mu     sync.Mutex
	tok    *oauth2.Token
	flight *flight
}

// CredentialsError is a failure to get a token that is not an HTTP exchange with a token
// endpoint: a tool that fails (databricks auth token, az), an ID token file that cannot be
// read. Trying again does not help, so it is not retried.
type CredentialsError struct{ Err error }

// Error returns the cause's text.
func (e *CredentialsError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *CredentialsError) Unwrap() error { return e.Err }

// flight is one fetch in progress.
type flight struct {
	done chan struct{}
	tok  *oauth2.Token
	err  error
}

func newCachedToken(what string, early time.Duration, fetch fetchFunc) *cachedToken {
	return &cachedToken{fetch: fetch, what: what, early: early, now: time.Now}
}

// valid reports whether tok can still be sent.
func (c *cachedToken) valid(tok *oauth2.Token) bool {
	if tok == nil || tok.AccessToken == "" {
		return false
	}
	return tok.Expiry.IsZero() || c.now().Add(c.early).Before(tok.Expiry)
}

// Token returns a valid token, fetching one when the cached one is about to expire.
func (c *cachedToken) Token(ctx context.Context) (Secret, error) {
	tok, err := c.oauth2Token(ctx)
	if err != nil {
		return Secret{}, err
	}
	return NewSecret(tok.AccessToken), nil
}

func (c *cachedToken) oauth2Token(ctx context.Context) (*oauth2.Token, error) {
	c.mu.Lock()
	if c.valid(c.tok) {
		tok := c.tok
		c.mu.Unlock()
		return tok, nil
	}
	f := c.flight
	if f == nil {
		f = &flight{done: make(chan struct{})}
		c.flight = f
		go func() {
			fctx, cancel := context.WithTimeout(context.Background(), 2*tokenTimeout)
			defer cancel()
			f.tok, f.err = c.fetch(fctx)
			if f.err == nil && (f.tok == nil || f.tok.AccessToken == "") {
				f.err = fmt.Errorf("get %s: the answer has no access token", c.what)
			}
			var te *TokenError
			if f.err != nil && !errors.As(f.err, &te) {
				f.err = &CredentialsError{Err: f.err}
			}
			c.mu.Lock()
			if f.err == nil {
				c.tok = f.tok
			}
			c.flight = nil
			c.mu.Unlock()
			close(f.done)
		}()
	}
	c.mu.Unlock()
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("get %s: %w", c.what, ctx.Err())
	case <-f.done:
	}
	if f.err != nil {
		return nil, f.err
	}
	return f.tok, nil
}
