"""Small helpers the extensions share: private replies, the question cooldown, the title autocomplete and
the moderators-only check."""
