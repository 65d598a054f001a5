"""storybot on Discord: answers questions with bullets copied from stories, never with words of its own."""
