"""sopflow.sla"""
