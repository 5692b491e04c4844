"""Media access and scene cuts for video emotion analysis."""
