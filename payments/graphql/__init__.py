"""Seed 003's GraphQL API at /graphql: `insurancePayments` and the four payment mutations."""
