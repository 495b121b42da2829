"""Common Message Format (CMF): provider-agnostic messages between users, agents, tools and models."""
