"""sopflow.stores"""
