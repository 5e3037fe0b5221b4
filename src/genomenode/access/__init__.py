"""Who may see what: identities, policy, consent, audit and pseudonyms."""
