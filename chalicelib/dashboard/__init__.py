"""The HQ dashboard (指挥部看板): a static one-page app served by the API itself."""
