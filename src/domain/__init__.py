"""HexaHub's domain: entities, value objects, events and rules. Standard library only."""
