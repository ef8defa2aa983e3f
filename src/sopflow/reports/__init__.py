"""sopflow.reports"""
