"""Tests of the conformance suite: it passes correct servers and fails each broken one."""
