"""Activation: audiences leave Kizuna for the tools that reach people, governed and exactly once.

`transport` is the one interface every destination kind implements; `sync` decides what to send
(the difference since the last run, under consent, suppressions and data-usage labels) and keeps
the ledger that makes a killed run safe to run again.
"""
