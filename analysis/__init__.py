"""Studies in, the paper's figures and tables out. Reads tables; never imports training code."""
