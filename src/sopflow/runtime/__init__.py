"""sopflow.runtime"""
