"""Login with ID-porten, the national login: OpenID Connect's authorization code flow.

mozilla-django-oidc runs the flow (state, nonce and PKCE kept in the session, the code
exchanged for tokens); this package reads the provider's metadata and keys, validates the ID
token as OIDC Core 3.1.3.7 and ../shared/domain/IDPORTEN.md require, and turns the token's
`pid` into the portal's user.
"""
