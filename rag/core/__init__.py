"""What every stage shares: settings, records, the JSON contract, errors, the language profile."""
