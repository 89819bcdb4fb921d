#! /bin/sh -e
