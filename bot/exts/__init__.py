"""Cogs by domain, loaded explicitly by `StoryBot.setup_hook`."""
