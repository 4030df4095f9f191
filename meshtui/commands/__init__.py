"""Non-interactive subcommands; each module registers one subcommand with the CLI."""
