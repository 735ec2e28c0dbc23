"""Scrapy side of the aggregator: spiders, settings built from ours, middlewares, pipeline."""
