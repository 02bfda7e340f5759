"""`stormproof prove`: checks decided for every value of some constants, over node counts.

`params` loads a spec with free constants, `encode` builds the counter-abstracted step
relation over Z3 integers (one counter per node situation and acted mark), and `prove`
runs the portfolio (BMC, k-induction, Houdini over linear templates, Spacer) per property.
"""
